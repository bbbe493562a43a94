"""A semester on a real JupyterHub, in Chromium: release, fetch, validate, submit (one late),
collect, sandboxed grading into nbgrader's gradebook, formgrader, feedback without hidden tests.

The problem set is the autograder's fixture (a ps1-like notebook that grades in seconds) with a
due date and a written answer graded by hand, so the whole flow fits in the 5 minutes a hub test
may take. The students use the same HTTP endpoints the Assignments tab's buttons call, from
their logged-in browser session (cookies, XSRF token); the instructor runs nbgrader's commands
as their own account.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import nbformat
import pytest

from autograder import markers
from autograder.release import find_leaks

from .hub import COURSE_ID, PASSWORD, Hub, missing

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "autograder" / "tests" / "fixtures" / "ps1" / "ps1.ipynb"
CORRECT = ROOT / "autograder" / "tests" / "corpus" / "ps1" / "correct.ipynb"
INSTRUCTOR, STUDENTS = "cnnprof", ["cnnstu1", "cnnstu2", "cnnstu3"]

pytestmark = [pytest.mark.browser, pytest.mark.timeout(480),
              pytest.mark.skipif(missing() is not None, reason=str(missing()))]


@pytest.fixture(scope="module")
def hub():
    root = Path(tempfile.mkdtemp(prefix="cnn-hub-", dir="/tmp"))
    hub = Hub(root, INSTRUCTOR, STUDENTS)
    try:
        hub.create()
        hub.start()
        yield hub
    finally:
        hub.stop()
        if (root / "hub.log").exists():  # kept for a failed run: build/hub/hub.log
            shutil.copy(root / "hub.log", ROOT / "build" / "hub" / "hub.log")
        shutil.rmtree(root, ignore_errors=True)


def login(browser, hub, user):
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{hub.url}/hub/login")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", PASSWORD)
    page.click("input[type=submit], button[type=submit]")
    page.wait_for_url(f"**/user/{user}/lab**", timeout=120_000)
    return context, page


def call(page, hub, user, route, method="POST", **data):
    """What a button of the Assignments tab does: a form POST with the session's XSRF token."""
    xsrf = next(c["value"] for c in page.context.cookies() if c["name"] == "_xsrf")
    url = f"{hub.url}/user/{user}/{route}"
    response = page.request.fetch(url, method=method, form=data or None, headers={"X-XSRFToken": xsrf})
    assert response.ok, (route, response.status, response.text()[:500])
    return response.json()


def instructor_source(home, due):
    nb = nbformat.read(FIXTURE, as_version=4)
    nb.metadata["course"] = {"due": due.isoformat()}
    cell = nbformat.v4.new_markdown_cell("The loss flattens: the learning rate is too small at the end.")
    cell.metadata["nbgrader"] = {"grade": True, "solution": True, "grade_id": "explain_curve", "points": 2,
                                 "locked": False, "schema_version": 3}
    nb.cells.append(cell)
    folder = home / "course" / "source" / "ps1"
    folder.mkdir(parents=True)
    nbformat.write(nb, folder / "ps1.ipynb")
    return folder / "ps1.ipynb"


def set_due(path, due):
    nb = nbformat.read(path, as_version=4)
    nb.metadata["course"] = {"due": due.isoformat()}
    nbformat.write(nb, path)


def test_semester_on_a_hub(hub, browser):
    started = time.monotonic()
    prof = hub.home(INSTRUCTOR)
    source = instructor_source(prof, datetime.now(UTC) + timedelta(days=7))
    subprocess.run(["chown", "-R", f"{INSTRUCTOR}:{INSTRUCTOR}", str(prof / "course")], check=True)
    # 1. the instructor releases ps1
    course = prof / "course"
    hub.as_user(INSTRUCTOR, "/usr/bin/python3", "-m", "nbgrader", "generate_assignment", "ps1", "--force", cwd=course)
    hub.as_user(INSTRUCTOR, "/usr/bin/python3", "-m", "nbgrader", "release_assignment", "ps1", "--force", cwd=course)

    # 2. each student logs in, fetches, edits an answer, validates and submits; the last one late
    answers = {c["metadata"]["nbgrader"]["grade_id"]: c["source"] for c in json.loads(CORRECT.read_text())["cells"]
               if c["metadata"].get("nbgrader", {}).get("solution")}
    pages = {}
    for number, student in enumerate(STUDENTS):
        if number == 2:  # the deadline passes between the second and the third hand-in
            set_due(source, datetime.now(UTC))
            time.sleep(1.5)
        context, page = login(browser, hub, student)
        pages[student] = page
        listed = call(page, hub, student, "assignments/fetch", course_id=COURSE_ID, assignment_id="ps1")
        assert any(a["assignment_id"] == "ps1" and a["status"] == "fetched" for a in listed["value"])
        nb_path = f"{COURSE_ID}/ps1/ps1.ipynb"  # path_includes_course: one folder per course
        model = call(page, hub, student, f"api/contents/{nb_path}", method="GET")
        for cell in model["content"]["cells"]:
            grade_id = cell["metadata"].get("nbgrader", {}).get("grade_id")
            if grade_id in answers and (number != 1 or grade_id != "block"):  # student 2 leaves one blank
                cell["source"] = answers[grade_id]
            if grade_id == "explain_curve":
                cell["source"] = "The curve flattens because the step size is too small."
        xsrf = next(c["value"] for c in page.context.cookies() if c["name"] == "_xsrf")
        put = page.request.put(f"{hub.url}/user/{student}/api/contents/{nb_path}", headers={"X-XSRFToken": xsrf},
                               data=json.dumps({"type": "notebook", "format": "json", "content": model["content"]}))
        assert put.ok, put.text()[:300]
        validated = call(page, hub, student, "assignments/validate", path=nb_path)
        assert validated["success"], validated
        submitted = call(page, hub, student, "assignments/submit", course_id=COURSE_ID, assignment_id="ps1")
        assert any(a["status"] == "submitted" for a in submitted["value"]), submitted
        if student != STUDENTS[1]:  # only one student comes back for feedback
            context.close()

    # 3. the instructor collects and grades with the sandboxed grader, into nbgrader's gradebook
    hub.as_user(INSTRUCTOR, "/usr/bin/python3", "-m", "nbgrader", "collect", "ps1", cwd=course)
    grade = subprocess.run([sys.executable, "-m", "autograder", "grade", "ps1", str(course / "submitted"),
                            "--home", str(course), "--source", str(source), "--workers", "2", "--test-limits"],
                           capture_output=True, text=True, timeout=240, cwd=ROOT)
    assert grade.returncode == 0, grade.stdout[-3000:] + grade.stderr[-3000:]
    assert f"LATE {STUDENTS[2]}: handed in" in grade.stdout
    subprocess.run(["chown", "-R", f"{INSTRUCTOR}:{INSTRUCTOR}", str(course)], check=True)

    # formgrader shows the scores; one written answer is graded there
    context, page = login(browser, hub, INSTRUCTOR)
    submissions = call(page, hub, INSTRUCTOR, "formgrader/api/submissions/ps1", method="GET")
    scores = {s["student"]: s["score"] for s in submissions}
    assert scores == {STUDENTS[0]: 10, STUDENTS[1]: 7, STUDENTS[2]: 10}, scores  # raw scores, before penalties
    page.goto(f"{hub.url}/user/{INSTRUCTOR}/formgrader/gradebook/ps1/ps1")
    page.wait_for_selector("a.name-shown", state="attached", timeout=60_000)
    assert all(student in page.content() for student in STUDENTS)
    first = next(s for s in submissions if s["student"] == STUDENTS[0])
    notebooks = call(page, hub, INSTRUCTOR, "formgrader/api/submitted_notebooks/ps1/ps1", method="GET")
    target = next(n for n in notebooks if n["student"] == STUDENTS[0])
    grades = call(page, hub, INSTRUCTOR, f"formgrader/api/grades?submission_id={target['id']}", method="GET")
    manual = next(g for g in grades if g["name"] == "explain_curve")
    assert manual["auto_score"] is None and manual["needs_manual_grade"]
    xsrf = next(c["value"] for c in page.context.cookies() if c["name"] == "_xsrf")
    put = page.request.put(f"{hub.url}/user/{INSTRUCTOR}/formgrader/api/grade/{manual['id']}",
                           headers={"X-XSRFToken": xsrf},
                           data=json.dumps({**manual, "manual_score": 1.5}))
    assert put.ok, put.text()[:300]
    submissions = call(page, hub, INSTRUCTOR, "formgrader/api/submissions/ps1", method="GET")
    assert next(s for s in submissions if s["student"] == STUDENTS[0])["score"] == 11.5
    assert first["max_score"] == 12

    # 4. the instructor releases feedback; 5. a student fetches it, and it shows no hidden test
    # generate_feedback converts to HTML with soupsieve, which needs this environment's Python
    # (the system one the accounts can reach is an older 3.11): run it with it, then hand it back
    feedback_run = subprocess.run([sys.executable, "-m", "nbgrader", "generate_feedback", "ps1"], cwd=course,
                                  capture_output=True, text=True, timeout=240,
                                  env={**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"})
    assert feedback_run.returncode == 0, feedback_run.stderr[-3000:]
    subprocess.run(["chown", "-R", f"{INSTRUCTOR}:{INSTRUCTOR}", str(course)], check=True)
    hub.as_user(INSTRUCTOR, "/usr/bin/python3", "-m", "nbgrader", "release_feedback", "ps1", cwd=course)
    call(pages[STUDENTS[1]], hub, STUDENTS[1], "assignments/fetch_feedback", course_id=COURSE_ID, assignment_id="ps1")
    folder = hub.home(STUDENTS[1]) / COURSE_ID / "ps1" / "feedback"
    assert list(folder.rglob("*.html")), "no feedback fetched"
    hidden = markers.secret_lines((c.source for c in nbformat.read(source, as_version=4).cells), markers.HIDDEN_ONLY)
    leaks = [leak for leak in find_leaks(folder, hidden) if "SOLUTION" not in leak]
    assert hidden and leaks == []
    print(f"hub semester flow: {time.monotonic() - started:.0f} s")
