"""The one vocabulary of nbgrader markers, and the one definition of a "secret line".

A line is *secret* when it sits inside a ``### BEGIN SOLUTION`` / ``### END SOLUTION`` or
``### BEGIN HIDDEN TESTS`` / ``### END HIDDEN TESTS`` block of an instructor notebook, does not
also appear (stripped) in the public part of any cell of the notebooks looked at together (one
problem set, or all of them for a release that ships them all), is not blank and is not a
comment (a comment may repeat the prose around it). The release leak check (release.py), the
feedback scrubber (feedback.py) and the solutions builder (solutions.py) all ask this module.
"""
BEGIN_SOLUTION, END_SOLUTION = "### BEGIN SOLUTION", "### END SOLUTION"
BEGIN_HIDDEN, END_HIDDEN = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
STUB = "# YOUR CODE HERE\nraise NotImplementedError()"
# The marker words as they may appear anywhere (a student file must contain none of them).
MARKERS = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS")
BLOCKS = {BEGIN_SOLUTION: END_SOLUTION, BEGIN_HIDDEN: END_HIDDEN}
HIDDEN_ONLY = {BEGIN_HIDDEN: END_HIDDEN}
SOLUTION_ONLY = {BEGIN_SOLUTION: END_SOLUTION}
ALL_MARKER_LINES = frozenset(BLOCKS) | frozenset(BLOCKS.values())


def classify(code, blocks=BLOCKS):
    """(line, state) for each line: state None for a marker line, True inside a block of a kind in
    ``blocks``, False elsewhere (a block of a kind not in ``blocks`` is public for this question)."""
    out, closing, counted = [], None, False
    for line in code.splitlines():
        marker = line.strip()
        if closing is None and marker in BLOCKS:
            closing, counted = BLOCKS[marker], marker in blocks
            out.append((line, None))
        elif closing is not None and marker == closing:
            closing = None
            out.append((line, None))
        else:
            out.append((line, closing is not None and counted))
    return out


def strip_markers(code):
    """The code with the marker lines removed (what the instructor's solution runs as)."""
    return "\n".join(line for line, state in classify(code) if state is not None)


def visible_test(code):
    """A test cell as released: the hidden block and its markers removed."""
    return "\n".join(line for line, state in classify(code, HIDDEN_ONLY) if state is False)


def hidden_line_numbers(code):
    """1-based line numbers of a test cell's hidden block (markers included)."""
    return {n for n, (_, state) in enumerate(classify(code, HIDDEN_ONLY), 1) if state is not False}


def released_answer(code):
    """An answer cell as released: each solution block replaced by the stub."""
    lines = []
    for line, state in classify(code, SOLUTION_ONLY):
        if state is None and line.strip() == BEGIN_SOLUTION:
            indent = line[: len(line) - len(line.lstrip())]
            lines += [indent + s for s in STUB.splitlines()]
        elif state is False:
            lines.append(line)
    return "\n".join(lines)


def has_hidden_tests(code):
    return any(line.strip() == BEGIN_HIDDEN for line in code.splitlines())


def is_secret_candidate(line):
    """Blank lines and comments never count as secret (see the module docstring)."""
    return bool(line) and not line.startswith("#")


def secret_lines(cell_sources, blocks=BLOCKS):
    """The secret lines (stripped) of the notebooks whose cell sources are given, together."""
    public, secret = set(), set()
    for code in cell_sources:
        for line, state in classify(code, blocks):
            if state is not None:
                (secret if state else public).add(line.strip())
    return {line for line in secret - public if is_secret_candidate(line)}
