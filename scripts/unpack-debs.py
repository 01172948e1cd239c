#!/usr/bin/env python3
"""Unpacks the data part of Debian packages (.deb files) into a folder, like `dpkg -x`, on a machine that has no
dpkg (the GPU machine of scripts/gpu-check). A .deb is an ar archive holding debian-binary, control.tar.* and
data.tar.* (xz, gz, zst or plain tar).

usage: unpack-debs.py DEST FILE.deb [FILE.deb ...]"""

import io
import os
import sys
import tarfile


def ar_members(path):
    """Yields (name, bytes) of each member of the ar archive at path."""
    with open(path, "rb") as f:
        if f.read(8) != b"!<arch>\n":
            raise ValueError(f"{path}: not an ar archive (not a .deb)")
        while True:
            header = f.read(60)
            if not header:
                return
            if len(header) != 60:
                raise ValueError(f"{path}: truncated ar header")
            name = header[:16].decode().strip().rstrip("/")
            size = int(header[48:58].decode().strip())
            data = f.read(size)
            if size % 2:
                f.read(1)
            yield name, data


def unpack(deb, dest):
    for name, data in ar_members(deb):
        if not name.startswith("data.tar"):
            continue
        if name.endswith(".zst"):
            import zstandard  # only where the package uses zstd (Debian 12 and 13 use xz)
            data = zstandard.ZstdDecompressor().decompressobj().decompress(data)
            mode = "r:"
        else:
            mode = "r:*"
        with tarfile.open(fileobj=io.BytesIO(data), mode=mode) as tar:
            root = os.path.realpath(dest)
            members = tar.getmembers()
            for member in members:
                name = os.path.normpath(member.name)
                if os.path.isabs(name) or name == ".." or name.startswith(".." + os.sep):
                    raise ValueError(f"member {member.name} points outside {dest}")
                # An absolute link (libz.so -> /lib/...) is made to point at the same path inside dest.
                if (member.issym() or member.islnk()) and os.path.isabs(member.linkname):
                    target = os.path.join(root, member.linkname.lstrip("/"))
                    member.linkname = os.path.relpath(target, os.path.dirname(os.path.join(root, name)))
                    if member.islnk():
                        member.linkname = os.path.relpath(target, root)
            tar.extractall(root, members=members)
        return
    raise ValueError(f"{deb}: no data.tar member")


def main():
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    dest = sys.argv[1]
    os.makedirs(dest, exist_ok=True)
    for deb in sys.argv[2:]:
        try:
            unpack(deb, dest)
        except (OSError, ValueError, tarfile.TarError) as e:
            print(f"error: cannot unpack {deb}: {e}", file=sys.stderr)
            return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
