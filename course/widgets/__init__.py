"""ipywidgets 8 explorers of the course (each module builds one widget; headless-testable).

quiz.self_check (all lectures); convolution, padding, pooling, receptive_field explorers (02-04)
"""
