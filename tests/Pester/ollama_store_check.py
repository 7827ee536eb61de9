"""Reads a model out of an Ollama store the way Ollama's own code does, because there is no ollama binary on the test
machines (and Go modules cannot be fetched to build one). Each step follows ollama/ollama at
fb30760996871fa9460115c753afd2c60d4ab0f7:
- types/model/name.go ParseNameBare (tag after the last ':' that follows the last '/', then model, namespace, host) and
  DefaultName (registry.ollama.ai / library / latest) merged in by ParseName; Name.Filepath: host/namespace/model/tag.
- manifest/manifest.go ParseNamedManifest: manifests/<Filepath> decoded as JSON {schemaVersion, mediaType, config,
  layers}; the model's digest is the SHA-256 of the manifest file's bytes.
- manifest/paths.go BlobsPath: a digest must match ^sha256[:-][0-9a-fA-F]{64}$; the blob is blobs/sha256-<hex>.
- server/images.go GetModel: the config blob decoded as JSON (types/model/config.go ConfigV2); then per layer by media
  type: image.model sets ModelPath (a later model layer replaces an earlier one) and is opened as GGUF (its
  tokenizer.chat_template read); image.projector is appended to ProjectorPaths; image.template/prompt is read as text;
  image.params decoded as JSON; image.license read as text. Model.Capabilities: completion for a GGUF model,
  projectorCapabilities adds vision when there is a projector.
- server/download.go verifyBlob: a blob's bytes hash to its digest (checked when Ollama pulls; checked here for every
  layer, since an export stands in for a pull).
Usage: python3 ollama_store_check.py <models_dir> <name>   Prints JSON; exit 1 with the reason when Ollama would fail.
"""
import hashlib
import json
import os
import re
import struct
import sys

DIGEST = re.compile(r"^sha256[:-][0-9a-fA-F]{64}$")


def fail(message, **extra):
    print(json.dumps({"ok": False, "error": message, **extra}))
    sys.exit(1)


def parse_name(s):
    host, namespace, model, tag = "registry.ollama.ai", "library", None, "latest"
    if s.rfind(":") > s.rfind("/"):
        s, tag = s.rsplit(":", 1)
    parts = s.split("/")
    model = parts[-1]
    if len(parts) >= 2:
        namespace = parts[-2]
    if len(parts) >= 3:
        host = "/".join(parts[:-2]).split("://")[-1]
    return host, namespace, model, tag


def blobs_path(root, digest):
    if not DIGEST.match(digest or ""):
        fail(f"invalid digest format: {digest!r}")
    return os.path.join(root, "blobs", digest.replace(":", "-"))


def verify_blob(path, digest, size):
    if not os.path.isfile(path):
        fail(f"blob {digest} is missing: {path}")
    data_hash = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            data_hash.update(chunk)
    if "sha256:" + data_hash.hexdigest() != digest.replace("-", ":", 1):
        fail(f"digest mismatch: {path} hashes to sha256:{data_hash.hexdigest()}, the manifest says {digest}")
    if os.path.getsize(path) != size:
        fail(f"size mismatch: {path} has {os.path.getsize(path)} bytes, the manifest says {size}")


def gguf_string_kv(path, wanted):
    """fs/gguf: magic 'GGUF', version, tensor count, kv count, then key/value pairs; returns the string value of one key."""
    with open(path, "rb") as f:
        if f.read(4) != b"GGUF":
            return False, None
        version, = struct.unpack("<I", f.read(4))
        if version < 2:
            return True, None
        _, kv_count = struct.unpack("<QQ", f.read(16))
        sizes = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}

        def read_str():
            n, = struct.unpack("<Q", f.read(8))
            return f.read(n).decode("utf-8", "replace")

        def skip(t):
            if t == 8:
                read_str()
            elif t == 9:
                inner, n = struct.unpack("<IQ", f.read(12))
                for _ in range(n):
                    skip(inner)
            else:
                f.read(sizes[t])

        for _ in range(kv_count):
            key = read_str()
            t, = struct.unpack("<I", f.read(4))
            if key == wanted and t == 8:
                return True, read_str()
            skip(t)
        return True, None


def main():
    root, name = sys.argv[1], sys.argv[2]
    host, namespace, model, tag = parse_name(name)
    manifest_path = os.path.join(root, "manifests", host, namespace, model, tag)
    if not os.path.isfile(manifest_path):
        fail(f"model '{name}' not found ({manifest_path})")
    raw = open(manifest_path, "rb").read()
    try:
        manifest = json.loads(raw)
    except ValueError as e:
        fail(f"manifest is not JSON: {e}")
    result = {"ok": True, "name": f"{host}/{namespace}/{model}:{tag}", "digest": hashlib.sha256(raw).hexdigest(),
              "schemaVersion": manifest.get("schemaVersion"), "mediaType": manifest.get("mediaType"),
              "model_layers": 0, "projector_paths": [], "capabilities": []}
    config = manifest.get("config") or {}
    if config.get("digest"):
        path = blobs_path(root, config["digest"])
        verify_blob(path, config["digest"], config.get("size"))
        with open(path, "rb") as f:
            result["config"] = json.load(f)
    for layer in manifest.get("layers") or []:
        path = blobs_path(root, layer.get("digest"))
        verify_blob(path, layer["digest"], layer.get("size"))
        media = layer.get("mediaType")
        if media == "application/vnd.ollama.image.model":
            result["model_layers"] += 1
            result["model_path"] = path
            is_gguf, chat_template = gguf_string_kv(path, "tokenizer.chat_template")
            result["model_is_gguf"] = is_gguf
            result["has_chat_template"] = bool(chat_template)
        elif media == "application/vnd.ollama.image.projector":
            is_gguf, _ = gguf_string_kv(path, "general.architecture")
            if not is_gguf:
                fail(f"projector {path} is not a GGUF file (gguf.Open would fail)")
            result["projector_paths"].append(path)
        elif media in ("application/vnd.ollama.image.template", "application/vnd.ollama.image.prompt"):
            result["template"] = open(path, encoding="utf-8").read()
        elif media == "application/vnd.ollama.image.params":
            with open(path, "rb") as f:
                result["params"] = json.load(f)
        elif media == "application/vnd.ollama.image.license":
            result.setdefault("license", []).append(open(path, encoding="utf-8").read())
    if "model_path" not in result:
        fail("the manifest has no application/vnd.ollama.image.model layer", **result)
    if result["model_layers"] > 1:
        fail("the manifest has several model layers; GetModel keeps only the last one", **result)
    if result["model_is_gguf"]:
        result["capabilities"].append("completion")
    if result["projector_paths"]:
        result["capabilities"].append("vision")
    print(json.dumps(result))


main()
