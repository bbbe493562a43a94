"""Intake: a folder or a zip of submissions -> one Submission per student, each valid or failed.

Accepted layouts (folder or zip alike):
  ``alice.ipynb``                              one file per student (the stem is the student)
  ``alice/ps1.ipynb``, ``alice/ps1/ps1.ipynb``  one folder per student (nbgrader's submitted/)
  ``lastfirst_12345_67890_ps1.ipynb``          a Canvas bulk download (intake.py)
  ``Full Name_501_assignsubmission_file_/``     a Moodle "download all submissions"
Any other top-level file is a submission that fails with a reason ("not a notebook"), so every
file handed in is accounted for. Names are made safe; zip entries are read in memory and never
extracted by their own names. With a roster, LMS ids become course ids.
"""
import hashlib
import json
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from . import intake

MAX_NOTEBOOK = 20 << 20
MAX_ZIP_TOTAL = 512 << 20
MAX_ZIP_ENTRIES = 5000
IGNORED = re.compile(r"^(\.|__MACOSX$|Thumbs\.db$|desktop\.ini$)")


@dataclass
class Submission:
    student: str
    origin: str                   # where it came from, for the report (already made safe)
    data: bytes = b""
    error: str = ""               # set when intake alone fails it
    notes: list = field(default_factory=list)
    timestamp: str | None = None  # hand-in time, ISO 8601 UTC (exchange timestamp.txt or LMS archive)
    lms_id: str = ""              # Canvas user id / Moodle participant id, from the file name
    secret: bytes = b""           # nbgrader exchange's submission_secret.txt (feedback release needs it)

    @property
    def sha256(self):
        return hashlib.sha256(self.data).hexdigest()


def safe_name(text, fallback="student"):
    """A student id usable as a file name: [A-Za-z0-9._-], no leading dot, at most 64 chars."""
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", str(text)).strip("._-")[:64]
    return name or fallback


def _unique(name, taken):
    candidate, n = name, 2
    while candidate in taken:
        candidate, n = f"{name}-{n}", n + 1
    taken.add(candidate)
    return candidate


def collect(path, ps, lms=None, roster=None):
    """Every submission under ``path`` (folder or .zip), sorted, with unique safe student ids.

    ``lms``: "canvas" or "moodle" (file names follow that LMS's bulk download; one that does not
    becomes a failed submission with the reason), None to detect it (every name must follow it)."""
    path = Path(path)
    if path.is_file() and zipfile.is_zipfile(path):
        entries = _zip_entries(path)
    elif path.is_dir():
        entries = _folder_entries(path)
    else:
        raise FileNotFoundError(f"{path}: not a folder or a zip file")
    lms = lms or intake.detect_lms({p[0] for p, *_ in entries})
    return _group(entries, ps, lms, roster)


def _folder_entries(root):
    """(relative posix parts, bytes or error) for every file under root; links are not followed."""
    out = []
    for item in sorted(root.rglob("*")):
        rel = item.relative_to(root).parts
        if any(IGNORED.match(p) for p in rel) or item.is_dir():
            continue
        if item.is_symlink() or not item.is_file():
            out.append((rel, None, "not a regular file (link or device)", None))
        elif item.stat().st_size > MAX_NOTEBOOK:
            out.append((rel, None, f"file larger than {MAX_NOTEBOOK >> 20} MiB", None))
        else:
            out.append((rel, item.read_bytes(), "", None))
    return out


def _zip_entries(path):
    out, total = [], 0
    with zipfile.ZipFile(path) as archive:
        infos = [i for i in archive.infolist() if not i.is_dir()][:MAX_ZIP_ENTRIES]
        for info in sorted(infos, key=lambda i: i.filename):
            parts = PurePosixPath(info.filename.replace("\\", "/")).parts
            if info.filename.startswith(("/", "\\")) or ".." in parts or re.match(r"^[A-Za-z]:", info.filename):
                out.append((tuple(p for p in parts if p not in ("/", "..")), None,
                            f"unsafe path in archive: {info.filename[:120]!r}", None))
                continue
            if any(IGNORED.match(p) for p in parts):
                continue
            if info.file_size > MAX_NOTEBOOK or total + info.file_size > MAX_ZIP_TOTAL:
                out.append((parts, None, "file too large in archive", None))
                continue
            total += info.file_size
            with archive.open(info) as handle:
                data = handle.read(MAX_NOTEBOOK + 1)
            out.append((parts, data[:MAX_NOTEBOOK], "" if len(data) <= MAX_NOTEBOOK else "file too large",
                        intake.zip_time(info.date_time)))
    return _strip_common_folder(out)


def _strip_common_folder(entries):
    """A zip of one folder (``submissions/alice.ipynb`` ...) counts as that folder."""
    while entries and all(len(p) > 1 for p, *_ in entries) and len({p[0] for p, *_ in entries}) == 1 \
            and len({p[1] for p, *_ in entries}) > 1:
        entries = [(p[1:], *rest) for p, *rest in entries]
    return entries


def _owner(parts, ps, error, lms=None):
    """Whose file is this, as (student name, the folder that identifies them)?

    top-level ``bob.ipynb`` -> bob; ``.../alice/ps1/ps1.ipynb`` -> alice; ``.../alice/x`` -> alice;
    in an LMS download the top-level name says it (intake.py).
    An unsafe archive entry is a submission of its own (and fails)."""
    if lms and parts and not error.startswith("unsafe path"):
        return parts[0], (parts[0],)
    if len(parts) <= 1 or error.startswith("unsafe path"):
        return (Path(parts[-1]).stem if parts else "unnamed"), tuple(parts)
    if len(parts) >= 3 and parts[-2] == ps:
        return parts[-3], tuple(parts[:-2])
    return parts[-2], tuple(parts[:-1])


def _group(entries, ps, lms=None, roster=None):
    by_student = {}
    for parts, data, error, when in entries:
        by_student.setdefault(_owner(parts, ps, error, lms), []).append((parts, data, error, when))
    taken, subs = set(), []
    for (name, _folder), items in by_student.items():  # dicts keep the sorted entry order
        lms_name = intake.parse_lms_name(name, lms) if lms else None
        member = roster.lookup(lms, lms_name.lms_id) if roster and lms_name else None
        student = member.student if member else (lms_name.name if lms_name else name)
        sub = _pick(_unique(safe_name(student), taken), items, ps)
        if lms and not lms_name:
            sub.error = sub.error or intake.unparseable(name, lms)
        elif lms_name:
            sub.lms_id = lms_name.lms_id
            if roster and not member:
                sub.notes.append(f"{lms} id {lms_name.lms_id} ({lms_name.name}) is not in the roster")
            if lms_name.late:
                sub.notes.append("Canvas marked this submission LATE")
        subs.append(sub)
    return subs


def _pick(student, items, ps):
    """The notebook of one student: psN.ipynb preferred, else the only .ipynb."""
    stamps = [i for i in items if i[0][-1] == intake.TIMESTAMP_FILE and i[1]]
    secrets = [i for i in items if i[0][-1] == intake.SECRET_FILE and i[1]]
    items = [i for i in items if i[0][-1] not in (intake.TIMESTAMP_FILE, intake.SECRET_FILE)] or items
    notebooks = [i for i in items if i[0][-1].endswith(".ipynb")]
    preferred = [i for i in notebooks if i[0][-1] == f"{ps}.ipynb"] or notebooks
    origin = "/".join(safe_name(p, "_") for p in (preferred or items)[0][0])
    if not preferred:
        names = ", ".join(sorted(safe_name(i[0][-1], "_") for i in items))[:200]
        return Submission(student, origin, error=f"not a notebook: no .ipynb file ({names})")
    parts, data, error, when = preferred[0]
    sub = Submission(student, origin, data or b"", error)
    sub.timestamp = intake.exchange_time(stamps[0][1]) if stamps else when
    sub.secret = secrets[0][1][:1024] if secrets else b""
    if len(preferred) > 1:
        sub.notes.append(f"{len(preferred)} notebooks found; graded {origin}")
    return sub


# ------------------------------------------------------------------------- the notebook itself
class InvalidNotebook(ValueError):
    pass


def parse_notebook(data: bytes):
    """Check a submission is an nbformat-4 notebook; returns its JSON (untrusted content)."""
    if not data.strip():
        raise InvalidNotebook("empty file")
    if len(data) > MAX_NOTEBOOK:
        raise InvalidNotebook(f"notebook larger than {MAX_NOTEBOOK >> 20} MiB")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidNotebook(f"not UTF-8 text (byte {exc.start})") from None
    try:
        nb = json.loads(text)
    except RecursionError:
        raise InvalidNotebook("malformed JSON: nested too deeply") from None
    except ValueError as exc:
        raise InvalidNotebook(f"malformed JSON: {str(exc)[:120]}") from None
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        raise InvalidNotebook("not a notebook: no list of cells")
    if nb.get("nbformat") != 4:
        raise InvalidNotebook(f"unsupported nbformat {str(nb.get('nbformat'))[:20]} (need 4)")
    return nb


def read_answers(data: bytes, source):
    """grade_id -> answer code for the instructor's answer cells, plus notes for the report.

    Only the source of cells whose grade_id names an instructor answer cell is used.
    """
    nb = parse_notebook(data)
    notes = []
    kernel = ((nb.get("metadata") or {}).get("kernelspec") or {}).get("name") \
        if isinstance(nb.get("metadata"), dict) else None
    if kernel not in (None, "python3"):
        notes.append(f"kernel {str(kernel)[:40]!r} ignored: graded with Python 3")
    wanted, answers = set(source.answer_ids), {}
    for cell in nb["cells"]:
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        meta = cell.get("metadata")
        nbg = meta.get("nbgrader") if isinstance(meta, dict) else None
        grade_id = nbg.get("grade_id") if isinstance(nbg, dict) else None
        if grade_id not in wanted:
            continue
        if grade_id in answers:
            notes.append(f"answer cell {grade_id} appears twice; the first one is graded")
            continue
        code = cell.get("source")
        if isinstance(code, list) and all(isinstance(s, str) for s in code):
            code = "".join(code)
        answers[grade_id] = code if isinstance(code, str) else ""
    for grade_id in source.answer_ids:
        if grade_id not in answers:
            notes.append(f"answer cell {grade_id} missing (deleted or its id changed): graded as empty")
    return answers, notes
