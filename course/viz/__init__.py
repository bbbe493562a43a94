"""Pictures of the course, by subject.

matrices.py     small matrices with values in cells, sliding windows, padding tables (lectures 02-04)
activations.py  activation statistics plots (lecture 06; records come from course.hooks)
features.py     filters, feature maps, top activating patches (lecture 10)
training.py     History plots: loss / accuracy curves, learning-rate and momentum schedule, LivePlot
png.py          png_bytes(fig): every figure that becomes a widget's or a live plot's PNG
"""
