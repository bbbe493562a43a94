"""Per-student feedback (markdown and HTML) that never shows a hidden test or a solution line.

Test cells are shown as released (hidden block removed); a failure on a hidden line is reported
by exception type only; every line is finally checked against the secret lines of the
instructor source and dropped if it quotes one.
"""
import html
from pathlib import Path

from .records import GradeRow
from .source import Source, secret_lines, visible_test

REMOVED = "[line removed: it quotes a hidden test or a solution]"


# Feedback lines are matched by substring: a secret line this short (`x = 1`, `)`) would remove
# unrelated lines, and cannot reveal an answer on its own.
SCRUB_MIN = 6


def scrub(text, secrets):
    secrets = [s for s in secrets if len(s) >= SCRUB_MIN and any(ch.isalnum() for ch in s)]
    return "\n".join(REMOVED if any(s in line for s in secrets) else line for line in text.splitlines())


def _reason(cell):
    if cell["passed"]:
        return ""
    if cell.get("hidden"):
        kind = cell["reason"].split(":", 1)[0] or "an error"
        return f"a hidden test in this cell failed ({kind})"
    return cell["reason"]


def feedback_markdown(record, source: Source):
    record = GradeRow.from_dict(record).to_dict()
    tests = {c.grade_id: c for c in source.cells if c.kind == "test"}
    lines = [f"# {record.get('problem_set') or source.name}: feedback for {record['student']}", ""]
    if record["status"] != "graded":
        lines += [f"**Not graded**: {record.get('reason', '')}", "",
                  f"Score: 0 / {record.get('max_score', source.max_score):g}"]
        return "\n".join(lines) + "\n"
    lines += [f"Score: **{record['score']:g} / {record['max_score']:g}**", ""]
    if record.get("runner_stopped"):
        lines += [f"Your code was stopped: {record['runner_stopped']}", ""]
    for cell in record["cells"]:
        verdict = "passed" if cell["passed"] else "failed"
        lines += [f"## {cell['grade_id']}: {cell['points']:g} / {cell['max_points']:g} ({verdict})", ""]
        test = tests.get(cell["grade_id"])
        if test is not None:
            lines += ["```python", visible_test(test.source), "```", ""]
            if any(l.strip() == "### BEGIN HIDDEN TESTS" for l in test.source.splitlines()):
                lines += ["(This cell also runs hidden tests.)", ""]
        if not cell["passed"]:
            lines += [f"Reason: {_reason(cell)}", ""]
    if record.get("late_penalty"):
        lines += [f"Late penalty: {record['late_penalty']:g} (handed in {record.get('timestamp')}, "
                  f"due {record.get('due')})", ""]
    if record.get("manual"):
        lines += ["Graded by hand (added when a grader has read it): "
                  + ", ".join(c["grade_id"] for c in record["manual"]), ""]
    if record.get("notes"):
        lines += ["## Notes", ""] + [f"- {n}" for n in record["notes"]] + [""]
    return scrub("\n".join(lines), secret_lines(source)) + "\n"


def markdown_to_html(text, title):
    """Enough HTML for this feedback's own markdown: headings, code blocks, list items."""
    out, in_code = [f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
                    "<style>body{font-family:sans-serif;max-width:50em;margin:auto}"
                    "pre{background:#f4f4f4;padding:.5em}</style></head><body>"], False
    for line in text.splitlines():
        if line.startswith("```"):
            out.append("</pre>" if in_code else "<pre>")
            in_code = not in_code
        elif in_code:
            out.append(html.escape(line))
        elif line.startswith("#"):
            level = len(line) - len(line.lstrip("#"))
            out.append(f"<h{level}>{html.escape(line[level:].strip())}</h{level}>")
        elif line.startswith("- "):
            out.append(f"<li>{html.escape(line[2:])}</li>")
        elif line.strip():
            out.append(f"<p>{html.escape(line).replace('**', '')}</p>")
    return "\n".join(out + ["</body></html>"]) + "\n"


def write_feedback(records, source: Source, folder):
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for record in map(GradeRow.from_dict, records):
        text = feedback_markdown(record, source)
        md = folder / f"{record.student}.md"
        md.write_text(text)
        (folder / f"{record.student}.html").write_text(markdown_to_html(text, record.student))
        written.append(md)
    return written
