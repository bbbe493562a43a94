"""The notes site's parts (course/notes.py builds it; see notes/README.md).

execution   full-mode runs of the lectures, cached by content; what the kernel records for the site
explorers   explorers rendered over a grid of control values, and the page controls that swap them
selfcheck   self-checks as static HTML that notes/_static/course-quiz.js makes clickable
pages       what a lecture page gets besides its outputs: alt text, problem-set links, widgets
"""
