"""A small in-memory Hugging Face Hub for tests, served on 127.0.0.1.

It speaks the part of the Hub protocol that ``huggingface_hub`` (2.x, with Xet disabled), ``datasets``
and ``transformers`` use to create repos, commit files (regular and LFS), list trees, read repo infos,
list models and download files. Everything lives in memory and disappears when the server stops.

    with LocalHub() as hub:            # or the ``hub_server`` fixture in conftest.py
        hub.url                        # -> HF_ENDPOINT
        hub.fail_next_commits(1)       # the next commit answers 500 (fault tests)
        hub.commits("org/name", "dataset")

The server uses the standard library only (``http.server``), plus PyYAML, a mubench-hf dependency, to
read card metadata the way the Hub does (tags and ``cardData`` in repo infos and model listings).
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

DEFAULT_USER = "mubench-tester"
DEFAULT_ORGS = ("mubench-org",)

# Files the Hub stores with LFS: its default .gitattributes patterns (a subset), big files, binary files.
LFS_SUFFIXES = (
    ".7z", ".arrow", ".bin", ".bz2", ".ckpt", ".gz", ".h5", ".joblib", ".model", ".msgpack", ".npy",
    ".npz", ".onnx", ".ot", ".parquet", ".pb", ".pickle", ".pkl", ".pt", ".pth", ".safetensors",
    ".tar", ".tflite", ".tgz", ".wasm", ".xz", ".zip", ".zst", ".png", ".jpg", ".jpeg",
)  # fmt: skip
LFS_MIN_SIZE = 10 * 1024 * 1024
GITATTRIBUTES = "".join(f"*{suffix} filter=lfs diff=lfs merge=lfs -text\n" for suffix in LFS_SUFFIXES)

REPO_TYPES = {"models": "model", "datasets": "dataset", "spaces": "space"}
URL_PREFIX = {"model": "", "dataset": "datasets/", "space": "spaces/"}
_NAME = r"[\w.-]+"
_REPO = rf"(?P<repo_id>{_NAME}/{_NAME})"
_API_REPO = rf"/api/(?P<kind>models|datasets|spaces)/{_REPO}"
_WEB_REPO = rf"/(?:(?P<prefix>datasets|spaces)/)?{_REPO}"


# --------------------------------------------------------------------------- storage
@dataclass(frozen=True)
class Blob:
    """One stored file. ``git_oid`` is git's blob SHA-1 (the Hub's ``oid``); LFS files also have a SHA-256."""

    content: bytes
    lfs: bool
    git_oid: str
    sha256: str

    @classmethod
    def of(cls, content: bytes, lfs: bool) -> Blob:
        git_oid = hashlib.sha1(b"blob %d\0" % len(content) + content).hexdigest()
        return cls(content, lfs, git_oid, hashlib.sha256(content).hexdigest())

    @property
    def remote_oid(self) -> str:
        """What the preupload endpoint reports for an existing file (what the client compares with)."""
        return self.sha256 if self.lfs else self.git_oid


@dataclass
class Commit:
    oid: str
    title: str
    message: str
    date: str
    files: dict[str, Blob]  # the whole tree at this commit
    changed: frozenset[str]  # paths added, changed or deleted by this commit


@dataclass
class Repo:
    repo_type: str
    repo_id: str
    private: bool
    created_at: str
    commits: list[Commit] = field(default_factory=list)  # oldest first; the last one is `main`

    @property
    def head(self) -> Commit:
        return self.commits[-1]

    def find_commit(self, revision: str) -> Commit | None:
        """``main`` (the only branch) or a commit id, full or abbreviated."""
        if revision in ("main", "refs/heads/main"):
            return self.head
        if len(revision) >= 7:
            for commit in reversed(self.commits):
                if commit.oid.startswith(revision):
                    return commit
        return None

    def last_commit_of(self, path: str, commit: Commit) -> Commit:
        """The latest commit up to ``commit`` that touched ``path`` (a file or anything below a folder)."""
        history = self.commits[: self.commits.index(commit) + 1]
        for candidate in reversed(history):
            if any(p == path or p.startswith(path + "/") for p in candidate.changed):
                return candidate
        return history[0]


class HubError(Exception):
    """An error answer: HTTP status, the Hub's ``X-Error-Code`` (if any) and a message."""

    def __init__(self, status: int, message: str, code: str | None = None, headers: dict | None = None):
        super().__init__(message)
        self.status, self.message, self.code, self.headers = status, message, code, headers or {}


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _card_metadata(readme: Blob | None) -> dict[str, Any]:
    """The YAML block at the top of a README, as the Hub reads it for tags and ``cardData``."""
    if readme is None:
        return {}
    match = re.match(r"^---\s*\n(.*?)\n---\s*(\n|$)", readme.content.decode("utf-8", "replace"), re.S)
    if not match:
        return {}
    import yaml  # only here: everything else is the standard library

    data = yaml.safe_load(match.group(1))
    return data if isinstance(data, dict) else {}


def _as_list(value: Any) -> list:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _tags_from_card(card: dict[str, Any]) -> list[str]:
    """Tags the Hub derives from card metadata (those ``list_models(filter=...)`` matches)."""
    tags = [str(t) for t in _as_list(card.get("tags"))]
    if card.get("library_name"):
        tags.append(str(card["library_name"]))
    if card.get("pipeline_tag"):
        tags.append(str(card["pipeline_tag"]))
    tags += [f"license:{lic}" for lic in _as_list(card.get("license"))]
    tags += [f"base_model:{base}" for base in _as_list(card.get("base_model"))]
    tags += [f"dataset:{ds}" for ds in _as_list(card.get("datasets"))]
    return list(dict.fromkeys(tags))


# --------------------------------------------------------------------------- the hub's state
class HubState:
    """Repos, LFS objects and switches for fault tests.

    Changes happen under ``lock``; request handlers also hold it while they read a repo, so a reader never
    sees half a commit.
    """

    def __init__(self, user: str = DEFAULT_USER, orgs: tuple[str, ...] = DEFAULT_ORGS) -> None:
        self.user, self.orgs = user, orgs
        self.lock = threading.RLock()
        self.repos: dict[tuple[str, str], Repo] = {}
        self.lfs_objects: dict[str, bytes] = {}  # sha256 -> content, uploaded but maybe not committed yet
        self.failing_commits = 0
        self.request_log: list[str] = []
        self.unrouted: list[str] = []  # requests the test hub does not know: a gap in this file
        self._counter = itertools.count()

    # ------------------------------------------------------------------ repos
    def get_repo(self, repo_type: str, repo_id: str, token: str | None = None) -> Repo:
        repo = self.repos.get((repo_type, repo_id))
        if repo is None or (repo.private and token is None):
            raise HubError(404, f"Repository {repo_id} not found", "RepoNotFound")
        return repo

    def get_commit(self, repo: Repo, revision: str) -> Commit:
        commit = repo.find_commit(unquote(revision))
        if commit is None:
            raise HubError(404, f"Invalid rev id: {unquote(revision)}", "RevisionNotFound")
        return commit

    def create_repo(self, repo_type: str, repo_id: str, private: bool) -> tuple[Repo, bool]:
        """Create a repo with the Hub's initial commit (a ``.gitattributes``); ``False`` if it existed."""
        with self.lock:
            if (repo_type, repo_id) in self.repos:
                return self.repos[(repo_type, repo_id)], False
            repo = Repo(repo_type, repo_id, private, created_at=_now())
            files = {".gitattributes": Blob.of(GITATTRIBUTES.encode(), lfs=False)}
            repo.commits.append(self._new_commit(repo, "initial commit", "", files, frozenset(files)))
            self.repos[(repo_type, repo_id)] = repo
            return repo, True

    def delete_repo(self, repo_type: str, repo_id: str) -> None:
        with self.lock:
            if self.repos.pop((repo_type, repo_id), None) is None:
                raise HubError(404, f"Repository {repo_id} not found", "RepoNotFound")

    def _new_commit(
        self, repo: Repo, title: str, message: str, files: dict[str, Blob], changed: frozenset[str]
    ) -> Commit:
        parent = repo.head.oid if repo.commits else ""
        seed = f"{repo.repo_id}|{parent}|{title}|{next(self._counter)}|" + "|".join(
            f"{p}:{b.git_oid}" for p, b in sorted(files.items())
        )
        return Commit(hashlib.sha1(seed.encode()).hexdigest(), title, message, _now(), files, changed)

    # ------------------------------------------------------------------ commits
    def fail_next_commits(self, count: int = 1) -> None:
        """Make the next ``count`` commits answer 500 without changing anything (fault tests)."""
        with self.lock:
            self.failing_commits = count

    def commit(self, repo: Repo, revision: str, lines: list[dict[str, Any]]) -> Commit:
        """Apply one NDJSON commit payload (header, file, lfsFile, deletedFile, deletedFolder) atomically."""
        with self.lock:
            if self.failing_commits > 0:
                self.failing_commits -= 1
                raise HubError(500, "Internal Error - the test hub was told to fail this commit")
            head = self.get_commit(repo, revision)
            if head is not repo.head:
                raise HubError(400, "Commits can only be made on the main branch of the test hub")
            if not lines or lines[0].get("key") != "header":
                raise HubError(400, "The first line of a commit payload must be its header")
            header = lines[0]["value"]
            parent = header.get("parentCommit")
            if parent and not head.oid.startswith(parent):
                raise HubError(412, f"A commit has happened since {parent}. Please refresh and try again.")
            files = dict(head.files)
            changed = {self._apply_operation(files, line) for line in lines[1:]}
            new = self._new_commit(
                repo, header.get("summary") or "", header.get("description") or "", files, frozenset(changed)
            )
            repo.commits.append(new)
            return new

    def _apply_operation(self, files: dict[str, Blob], line: dict[str, Any]) -> str:
        key, value = line.get("key"), line.get("value", {})
        path = value.get("path", "")
        if key == "file":
            files[path] = Blob.of(base64.b64decode(value["content"]), lfs=False)
        elif key == "lfsFile":
            content = self.lfs_objects.get(value["oid"])
            if content is None:
                raise HubError(400, f"LFS object {value['oid']} of {path} was not uploaded before the commit")
            files[path] = Blob.of(content, lfs=True)
        elif key == "deletedFile":
            if files.pop(path, None) is None:
                raise HubError(404, f"A file with this name doesn't exist: {path}", "EntryNotFound")
        elif key == "deletedFolder":
            below = [p for p in files if p.startswith(path.rstrip("/") + "/")]
            if not below:
                raise HubError(404, f"A folder with this name doesn't exist: {path}", "EntryNotFound")
            for p in below:
                del files[p]
        else:
            raise HubError(400, f"Unknown commit operation {key!r}")
        return path

    # ------------------------------------------------------------------ reading
    def commits(self, repo_id: str, repo_type: str = "model") -> list[Commit]:
        """The commits of a repo, oldest first (for assertions in tests)."""
        with self.lock:
            return list(self.get_repo(repo_type, repo_id, token="test").commits)

    def files(self, repo_id: str, repo_type: str = "model") -> dict[str, bytes]:
        """Path -> content at the head of a repo (for assertions in tests)."""
        with self.lock:
            repo = self.get_repo(repo_type, repo_id, token="test")
            return {path: blob.content for path, blob in repo.head.files.items()}


# --------------------------------------------------------------------------- JSON views
def file_entry(repo: Repo, commit: Commit, path: str, expand: bool) -> dict[str, Any]:
    blob = commit.files[path]
    entry: dict[str, Any] = {"type": "file", "oid": blob.git_oid, "size": len(blob.content), "path": path}
    if blob.lfs:
        entry["lfs"] = {"oid": blob.sha256, "size": len(blob.content), "pointerSize": 134}
    if expand:
        entry["lastCommit"] = _last_commit_view(repo.last_commit_of(path, commit))
    return entry


def folder_entry(repo: Repo, commit: Commit, path: str, expand: bool) -> dict[str, Any]:
    oid = hashlib.sha1(f"tree|{commit.oid}|{path}".encode()).hexdigest()
    entry: dict[str, Any] = {"type": "directory", "oid": oid, "size": 0, "path": path}
    if expand:
        entry["lastCommit"] = _last_commit_view(repo.last_commit_of(path, commit))
    return entry


def _last_commit_view(commit: Commit) -> dict[str, str]:
    return {"id": commit.oid, "title": commit.title, "date": commit.date}


def _folders(paths: Iterator[str] | list[str]) -> set[str]:
    """Every folder that holds at least one of ``paths``."""
    out: set[str] = set()
    for path in paths:
        parts = path.split("/")[:-1]
        out.update("/".join(parts[: i + 1]) for i in range(len(parts)))
    return out


def tree_entries(repo: Repo, commit: Commit, folder: str, recursive: bool, expand: bool) -> list[dict]:
    """The Hub's tree listing: a folder's children (or everything below it), or a file itself."""
    if folder in commit.files:
        return [file_entry(repo, commit, folder, expand)]
    folders = _folders(commit.files)
    if folder and folder not in folders:
        raise HubError(404, f"{folder} does not exist at revision {commit.oid}", "EntryNotFound")
    prefix = folder + "/" if folder else ""

    def wanted(path: str) -> bool:
        return path.startswith(prefix) and (recursive or "/" not in path[len(prefix) :])

    out = [folder_entry(repo, commit, p, expand) for p in sorted(folders) if wanted(p)]
    out += [file_entry(repo, commit, p, expand) for p in sorted(commit.files) if wanted(p)]
    return out


def repo_view(repo: Repo, commit: Commit) -> dict[str, Any]:
    """A repo info (``/api/models/{id}``, ``/api/datasets/{id}``), as of ``commit``."""
    card = _card_metadata(commit.files.get("README.md"))
    view: dict[str, Any] = {
        "_id": hashlib.sha1(repo.repo_id.encode()).hexdigest()[:24],
        "id": repo.repo_id,
        "author": repo.repo_id.split("/")[0],
        "sha": commit.oid,
        "private": repo.private,
        "gated": False,
        "disabled": False,
        "downloads": 0,
        "likes": 0,
        "tags": _tags_from_card(card),
        "cardData": card,
        "createdAt": repo.created_at,
        "lastModified": commit.date,
        "siblings": [
            {"rfilename": path, "size": len(blob.content), "blobId": blob.git_oid}
            for path, blob in sorted(commit.files.items())
        ],
    }
    if repo.repo_type == "model":
        view["library_name"] = card.get("library_name")
        view["pipeline_tag"] = card.get("pipeline_tag")
        view["modelId"] = repo.repo_id
    return view


def commit_view(commit: Commit) -> dict[str, Any]:
    return {
        "id": commit.oid,
        "title": commit.title,
        "message": commit.message,
        "date": commit.date,
        "authors": [{"user": DEFAULT_USER, "avatar": None}],
    }


# --------------------------------------------------------------------------- HTTP
Route = tuple[str, re.Pattern, Callable[..., None]]


class HubRequestHandler(BaseHTTPRequestHandler):
    """Routes one request to a method of this class; ``HubError`` becomes the Hub's error answer."""

    server: HubHTTPServer
    protocol_version = "HTTP/1.0"  # one request per connection: no idle keep-alive threads at shutdown

    # ------------------------------------------------------------------ plumbing
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        pass  # the request log below is enough; stderr noise would clutter test output

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_HEAD(self) -> None:
        self._dispatch("HEAD")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    @property
    def hub(self) -> HubState:
        return self.server.hub

    def _dispatch(self, method: str) -> None:
        url = urlsplit(self.path)
        self.query = parse_qs(url.query)
        with self.hub.lock:
            self.hub.request_log.append(f"{method} {url.path}")
        try:
            for route_method, pattern, handler in ROUTES:
                match = pattern.fullmatch(url.path)
                if match and method in route_method.split("|"):
                    handler(self, **match.groupdict())
                    return
            with self.hub.lock:
                self.hub.unrouted.append(f"{method} {url.path}")
            raise HubError(404, f"the test hub has no route for {method} {url.path}")
        except HubError as err:
            self._send_error(err)

    def token(self) -> str | None:
        auth = self.headers.get("Authorization", "")
        return auth[len("Bearer ") :] if auth.startswith("Bearer ") else None

    def require_token(self) -> str:
        token = self.token()
        if not token:
            raise HubError(401, "You must be authenticated to write to the test hub")
        return token

    def read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            return self._read_chunked()
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _read_chunked(self) -> bytes:
        chunks = []
        while True:
            size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return b"".join(chunks)
            chunks.append(self.rfile.read(size))
            self.rfile.readline()  # the CRLF after each chunk

    def read_json(self) -> Any:
        body = self.read_body()
        return json.loads(body) if body else {}

    def send_json(self, value: Any, status: int = 200, headers: dict[str, str] | None = None) -> None:
        self.send_bytes(
            json.dumps(value).encode(), status, {"Content-Type": "application/json", **(headers or {})}
        )

    def send_bytes(self, body: bytes, status: int = 200, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _send_error(self, err: HubError) -> None:
        headers = {"X-Error-Message": err.message, **err.headers}
        if err.code:
            headers["X-Error-Code"] = err.code
        self.send_json({"error": err.message}, err.status, headers)

    def base_url(self) -> str:
        return self.server.url

    def repo_for(self, kind_or_prefix: str | None, repo_id: str) -> Repo:
        repo_type = REPO_TYPES.get(kind_or_prefix or "models", "model")
        return self.hub.get_repo(repo_type, repo_id, self.token())

    # ------------------------------------------------------------------ account and repos
    def whoami(self) -> None:
        if not self.token():
            raise HubError(401, "Invalid credentials in Authorization header")
        self.send_json(
            {
                "type": "user",
                "name": self.hub.user,
                "fullname": "mubench test user",
                "orgs": [{"type": "org", "name": org} for org in self.hub.orgs],
                "auth": {"type": "access_token", "accessToken": {"displayName": "tests", "role": "write"}},
            }
        )

    def create_repo(self) -> None:
        self.require_token()
        body = self.read_json()
        repo_type = body.get("type") or "model"
        repo_id = f"{body.get('organization') or self.hub.user}/{body['name']}"
        private = body.get("private") or body.get("visibility") == "private"
        repo, created = self.hub.create_repo(repo_type, repo_id, bool(private))
        url = f"{self.base_url()}/{URL_PREFIX[repo_type]}{repo_id}"
        if not created:
            self.send_json({"error": f"You already created this {repo_type} repo", "url": url}, 409)
            return
        self.send_json({"url": url, "name": repo_id, "id": repo.repo_id})

    def delete_repo(self) -> None:
        self.require_token()
        body = self.read_json()
        repo_id = f"{body.get('organization') or self.hub.user}/{body['name']}"
        self.hub.delete_repo(body.get("type") or "model", repo_id)
        self.send_json({})

    def validate_yaml(self) -> None:
        self.read_body()
        self.send_json({"errors": [], "warnings": []})

    # ------------------------------------------------------------------ reading repos
    def repo_info(self, kind: str, repo_id: str, revision: str | None) -> None:
        repo = self.repo_for(kind, repo_id)
        with self.hub.lock:
            self.send_json(repo_view(repo, self.hub.get_commit(repo, revision or "main")))

    def list_repos(self, kind: str) -> None:
        repo_type = REPO_TYPES[kind]
        author = self.query.get("author", [None])[0]
        wanted_tags = set(self.query.get("filter", []))
        fields = self._requested_fields()
        with self.hub.lock:
            out = []
            for (rtype, repo_id), repo in sorted(self.hub.repos.items()):
                if rtype != repo_type or (repo.private and not self.token()):
                    continue
                if author and repo_id.split("/")[0] != author:
                    continue
                view = repo_view(repo, repo.head)
                if wanted_tags <= set(view["tags"]):
                    out.append(view if fields is None else {k: v for k, v in view.items() if k in fields})
        self.send_json(out)

    def _requested_fields(self) -> set[str] | None:
        """``None`` for every field (``full``); otherwise what ``expand``/``cardData`` ask, plus the basics."""
        if self.query.get("full"):
            return None
        fields = {
            "_id",
            "id",
            "tags",
            "private",
            "createdAt",
            "library_name",
            "pipeline_tag",
            "likes",
            "downloads",
        }
        expand = self.query.get("expand", []) + self.query.get("expand[]", [])
        if expand:
            return {"_id", "id", *expand}
        if self.query.get("cardData"):
            fields.add("cardData")
        return fields

    def tree(self, kind: str, repo_id: str, revision: str, path: str | None) -> None:
        repo = self.repo_for(kind, repo_id)
        recursive = self._flag("recursive")
        expand = self._flag("expand")
        with self.hub.lock:
            commit = self.hub.get_commit(repo, revision)
            self.send_json(tree_entries(repo, commit, unquote(path or "").strip("/"), recursive, expand))

    def _flag(self, name: str) -> bool:
        return self.query.get(name, ["false"])[0].lower() in ("1", "true")

    def paths_info(self, kind: str, repo_id: str, revision: str) -> None:
        repo = self.repo_for(kind, repo_id)
        form = parse_qs(self.read_body().decode())
        expand = form.get("expand", ["False"])[0].lower() in ("1", "true")
        with self.hub.lock:
            commit = self.hub.get_commit(repo, revision)
            folders = _folders(commit.files)
            out = []
            for path in form.get("paths", []):
                path = path.strip("/")
                if path in commit.files:
                    out.append(file_entry(repo, commit, path, expand))
                elif path in folders:
                    out.append(folder_entry(repo, commit, path, expand))
        self.send_json(out)

    def refs(self, kind: str, repo_id: str) -> None:
        repo = self.repo_for(kind, repo_id)
        main = {"name": "main", "ref": "refs/heads/main", "targetCommit": repo.head.oid}
        self.send_json({"branches": [main], "tags": [], "converts": [], "pullRequests": []})

    def list_commits(self, kind: str, repo_id: str, revision: str) -> None:
        repo = self.repo_for(kind, repo_id)
        with self.hub.lock:
            commit = self.hub.get_commit(repo, revision)
            history = repo.commits[: repo.commits.index(commit) + 1]
            self.send_json([commit_view(c) for c in reversed(history)])

    # ------------------------------------------------------------------ writing
    def preupload(self, kind: str, repo_id: str, revision: str) -> None:
        self.require_token()
        repo = self.repo_for(kind, repo_id)
        body = self.read_json()
        with self.hub.lock:
            head = self.hub.get_commit(repo, revision)
            answers = []
            for item in body.get("files", []):
                sample = base64.b64decode(item.get("sample", ""))
                lfs = (
                    item["path"].lower().endswith(LFS_SUFFIXES)
                    or item["size"] >= LFS_MIN_SIZE
                    or b"\0" in sample
                )
                existing = head.files.get(item["path"])
                answers.append(
                    {
                        "path": item["path"],
                        "uploadMode": "lfs" if lfs else "regular",
                        "shouldIgnore": False,
                        "oid": existing.remote_oid if existing else None,
                    }
                )
        self.send_json({"files": answers, "commitOid": head.oid})

    def commit(self, kind: str, repo_id: str, revision: str) -> None:
        self.require_token()
        repo = self.repo_for(kind, repo_id)
        lines = [json.loads(line) for line in self.read_body().splitlines() if line.strip()]
        new = self.hub.commit(repo, revision, lines)
        url = f"{self.base_url()}/{URL_PREFIX[repo.repo_type]}{repo.repo_id}/commit/{new.oid}"
        self.send_json({"commitUrl": url, "commitOid": new.oid, "success": True, "pullRequestUrl": None})

    def lfs_batch(self, repo_id: str, prefix: str | None) -> None:
        self.require_token()
        self.repo_for(prefix, repo_id)
        body = self.read_json()
        objects = []
        for obj in body.get("objects", []):
            answer: dict[str, Any] = {"oid": obj["oid"], "size": obj["size"], "authenticated": True}
            with self.hub.lock:
                present = obj["oid"] in self.hub.lfs_objects
            if not present:  # no actions = "already uploaded": the client skips it
                href = f"{self.base_url()}/__lfs/{obj['oid']}"
                answer["actions"] = {
                    "upload": {"href": href, "header": {}},
                    "verify": {"href": f"{href}/verify", "header": {}},
                }
            objects.append(answer)
        self.send_json({"transfer": "basic", "objects": objects, "hash_algo": "sha256"})

    def lfs_upload(self, oid: str) -> None:
        content = self.read_body()
        if hashlib.sha256(content).hexdigest() != oid:
            raise HubError(400, f"uploaded content does not match its SHA-256 {oid}")
        with self.hub.lock:
            self.hub.lfs_objects[oid] = content
        self.send_bytes(b"")

    def lfs_verify(self, oid: str) -> None:
        body = self.read_json()
        with self.hub.lock:
            content = self.hub.lfs_objects.get(oid)
        if content is None or len(content) != body.get("size"):
            raise HubError(404, f"LFS object {oid} is missing or has the wrong size")
        self.send_json({})

    # ------------------------------------------------------------------ downloading
    def resolve(self, repo_id: str, revision: str, path: str, prefix: str | None) -> None:
        repo = self.repo_for(prefix, repo_id)
        path = unquote(path)
        with self.hub.lock:
            commit = self.hub.get_commit(repo, revision)
            blob = commit.files.get(path)
        if blob is None:
            raise HubError(404, f"Entry not found: {path}", "EntryNotFound", {"X-Repo-Commit": commit.oid})
        headers = {
            "X-Repo-Commit": commit.oid,
            "ETag": f'"{blob.git_oid}"',
            "Accept-Ranges": "bytes",
            "Content-Type": "application/octet-stream",
        }
        if blob.lfs:
            headers.update({"X-Linked-Etag": f'"{blob.sha256}"', "X-Linked-Size": str(len(blob.content))})
        body, status = self._apply_range(blob.content, headers)
        self.send_bytes(body, status, headers)

    def _apply_range(self, content: bytes, headers: dict[str, str]) -> tuple[bytes, int]:
        """Serve ``Range: bytes=a-b`` / ``bytes=a-`` / ``bytes=-n`` requests with 206, as the Hub does."""
        spec = self.headers.get("Range")
        if not spec:
            return content, 200
        match = re.fullmatch(r"bytes=(\d*)-(\d*)", spec.strip())
        if not match or match.groups() == ("", ""):
            raise HubError(400, f"unsupported Range header {spec!r}")
        first, last = match.groups()
        size = len(content)
        if first == "":
            start, stop = max(size - int(last), 0), size
        else:
            start, stop = int(first), min(int(last) + 1, size) if last else size
        if start >= size:
            raise HubError(416, "Range Not Satisfiable", headers={"Content-Range": f"bytes */{size}"})
        headers["Content-Range"] = f"bytes {start}-{stop - 1}/{size}"
        return content[start:stop], 206


def _route(methods: str, pattern: str, handler: Callable[..., None]) -> Route:
    return methods, re.compile(pattern), handler


H = HubRequestHandler
ROUTES: list[Route] = [
    _route("GET", r"/api/whoami-v2", H.whoami),
    _route("POST", r"/api/repos/create", H.create_repo),
    _route("DELETE", r"/api/repos/delete", H.delete_repo),
    _route("POST", r"/api/validate-yaml", H.validate_yaml),
    _route("GET", r"/api/(?P<kind>models|datasets|spaces)", H.list_repos),
    _route("POST", _API_REPO + r"/preupload/(?P<revision>[^/]+)", H.preupload),
    _route("POST", _API_REPO + r"/commit/(?P<revision>[^/]+)", H.commit),
    _route("GET", _API_REPO + r"/tree/(?P<revision>[^/]+)(?:/(?P<path>.*))?", H.tree),
    _route("POST", _API_REPO + r"/paths-info/(?P<revision>[^/]+)", H.paths_info),
    _route("GET", _API_REPO + r"/refs", H.refs),
    _route("GET", _API_REPO + r"/commits/(?P<revision>[^/]+)", H.list_commits),
    _route("GET", _API_REPO + r"(?:/revision/(?P<revision>[^/]+))?", H.repo_info),
    _route("POST", _WEB_REPO + r"\.git/info/lfs/objects/batch", H.lfs_batch),
    _route("PUT", r"/__lfs/(?P<oid>[0-9a-f]{64})", H.lfs_upload),
    _route("POST", r"/__lfs/(?P<oid>[0-9a-f]{64})/verify", H.lfs_verify),
    _route("GET|HEAD", _WEB_REPO + r"/resolve/(?P<revision>[^/]+)/(?P<path>.+)", H.resolve),
]


class HubHTTPServer(ThreadingHTTPServer):
    """Joins its request threads on close, so a stopped server leaves no thread behind."""

    daemon_threads = False
    block_on_close = True

    def __init__(self, hub: HubState) -> None:
        super().__init__(("127.0.0.1", 0), HubRequestHandler)  # port 0: the OS picks a free port
        self.hub = hub
        self.url = f"http://127.0.0.1:{self.server_address[1]}"


class LocalHub(HubState):
    """The test hub: state plus an HTTP server on a free port of 127.0.0.1, run in a background thread."""

    def __init__(self, user: str = DEFAULT_USER, orgs: tuple[str, ...] = DEFAULT_ORGS) -> None:
        super().__init__(user, orgs)
        self._server: HubHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the test hub is not running; call start() or use it as a context manager")
        return self._server.url

    def start(self) -> LocalHub:
        self._server = HubHTTPServer(self)
        # A short poll interval: shutdown() waits for the loop's next poll, and tests stop many servers.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, name="local-hub", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()  # joins the request threads
        assert self._thread is not None
        self._thread.join()
        self._server = self._thread = None

    def __enter__(self) -> LocalHub:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
