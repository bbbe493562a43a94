"""The notes site's parts (course/notes.py builds it; see notes/README.md).

execution   the lectures' runs: full mode cached by content, fast mode reused from the tests
kernel      what runs inside a lecture's kernel for the site: figure descriptions, explorer grids
pages       an executed notebook made into its page: forms, explorers, alt text, links, fixes
selfcheck   self-checks as static HTML that notes/_static/course-quiz.js makes clickable
explorers   explorer grids as page controls that notes/_static/course-explorer.js swaps
"""
