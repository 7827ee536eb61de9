"""Checks a Hugging Face cache folder by huggingface_hub's own rules, re-implemented here because huggingface_hub
cannot be installed on the test machines (no PyPI). Rules and line numbers from huggingface/huggingface_hub at
ee0a4510f4bc15e26cb722be2efc2bdb01383ca0:
- src/huggingface_hub/utils/_cache_manager.py _scan_cached_repo (line 731): the repo folder is a directory (737) named
  <type>s--<id with / as -->> (740-748); snapshots/ exists (757); refs/ is not a file (771); each ref file's whole
  content is a commit hash (780, read without stripping, so a trailing newline would name another commit); snapshots/
  holds only folders (791); every file in a snapshot resolves to an existing blob (801); every ref names a snapshot (840).
- src/huggingface_hub/file_download.py try_to_load_from_cache (1475): refs/<revision> gives the commit (1546-1549),
  then snapshots/<commit>/<filename> is the file returned, as from_pretrained finds it with HF_HUB_OFFLINE=1.
Usage: python3 hf_cache_check.py <cache_dir> <repo_id> <filename>...   Prints JSON; exit 1 with the reason when corrupt.
"""
import hashlib
import json
import os
import sys
from pathlib import Path

FILES_TO_IGNORE = [".DS_Store", "Thumbs.db", "desktop.ini"]


def fail(message):
    print(json.dumps({"ok": False, "error": message}))
    sys.exit(1)


def etag_kind(blob_path):
    """Which ETag the blob is named by (file_download.py get_hf_file_metadata: X-Linked-Etag, the SHA-256, for LFS files,
    else the ETag, the git blob SHA-1; hf_hub_download stores the file at blobs/<etag>): 'sha256', 'git-sha1' or 'mismatch'."""
    data = blob_path.read_bytes()
    if hashlib.sha256(data).hexdigest() == blob_path.name:
        return "sha256"
    if hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest() == blob_path.name:
        return "git-sha1"
    return "mismatch"


def scan_repo(repo_path):
    if not repo_path.is_dir():
        fail(f"Repo path is not a directory: {repo_path}")
    if "--" not in repo_path.name:
        fail(f"Repo path is not a valid HuggingFace cache directory: {repo_path}")
    repo_type, repo_id = repo_path.name.split("--", maxsplit=1)
    repo_type = repo_type[:-1]
    repo_id = repo_id.replace("--", "/")
    if repo_type not in {"dataset", "model", "space"}:
        fail(f"Repo type must be `dataset`, `model` or `space`, found `{repo_type}`")
    snapshots_path = repo_path / "snapshots"
    refs_path = repo_path / "refs"
    if not snapshots_path.exists() or not snapshots_path.is_dir():
        fail(f"Snapshots dir doesn't exist in cached repo: {snapshots_path}")
    refs_by_hash = {}
    if refs_path.exists():
        if refs_path.is_file():
            fail(f"Refs directory cannot be a file: {refs_path}")
        for ref_path in refs_path.glob("**/*"):
            if ref_path.is_dir() or ref_path.name in FILES_TO_IGNORE:
                continue
            with ref_path.open() as f:
                commit_hash = f.read()
            refs_by_hash.setdefault(commit_hash, set()).add(str(ref_path.relative_to(refs_path)))
    revisions = []
    blobs = set()
    for revision_path in snapshots_path.iterdir():
        if revision_path.name in FILES_TO_IGNORE:
            continue
        if revision_path.is_file():
            fail(f"Snapshots folder corrupted. Found a file: {revision_path}")
        files = []
        for file_path in revision_path.glob("**/*"):
            if file_path.is_dir():
                continue
            blob_path = Path(file_path).resolve()
            if not blob_path.exists():
                fail(f"Blob missing (broken symlink): {blob_path}")
            blobs.add(blob_path)
            files.append({"name": str(file_path.relative_to(revision_path)), "blob": blob_path.name,
                          "link": os.readlink(file_path) if file_path.is_symlink() else None,
                          "size": blob_path.stat().st_size, "etag_kind": etag_kind(blob_path)})
        revisions.append({"commit": revision_path.name, "refs": sorted(refs_by_hash.pop(revision_path.name, set())), "files": files})
    if refs_by_hash:
        fail(f"Reference(s) refer to missing commit hashes: {refs_by_hash}")
    return {"repo_id": repo_id, "repo_type": repo_type, "nb_files": len(blobs), "revisions": revisions}


def try_to_load_from_cache(cache_dir, repo_id, filename, revision="main"):
    repo_cache = os.path.join(cache_dir, "models--" + repo_id.replace("/", "--"))
    if not os.path.isdir(repo_cache):
        return None
    revision_file = os.path.join(repo_cache, "refs", revision)
    if os.path.isfile(revision_file):
        with open(revision_file) as f:
            revision = f.read()
    cached = os.path.join(repo_cache, "snapshots", revision, filename)
    return cached if os.path.isfile(cached) else None


def main():
    cache_dir, repo_id, filenames = sys.argv[1], sys.argv[2], sys.argv[3:]
    info = scan_repo(Path(cache_dir) / ("models--" + repo_id.replace("/", "--")))
    info["offline"] = {name: try_to_load_from_cache(cache_dir, repo_id, name) for name in filenames}
    info["ok"] = all(info["offline"].values())
    print(json.dumps(info))


main()
