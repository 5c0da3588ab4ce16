"""Writes a tiny pure-Python wheel (standard library only) for bench/deploy.

Usage: python make-wheel.py OUTDIR   -> OUTDIR/pitlane_bench_tiny-1.0.0-py3-none-any.whl

The python3 job of the benchmark lists it in its requirements.txt, so that the dependency layer
exists (there is no PyPI here): Pitlane installs it from its wheelhouse, the naive Dockerfile
with `pip install --no-index --find-links`.
"""
import base64
import hashlib
import sys
import zipfile
from pathlib import Path

NAME, DIST, VERSION = "pitlane-bench-tiny", "pitlane_bench_tiny", "1.0.0"
FILES = {
    f"{DIST}/__init__.py": '"""A tiny local package for Pitlane\'s deploy benchmark."""\n\n__version__ = "1.0.0"\n\n\ndef double(x):\n    return 2 * x\n',
    f"{DIST}-{VERSION}.dist-info/METADATA": f"Metadata-Version: 2.1\nName: {NAME}\nVersion: {VERSION}\nSummary: A tiny local package for Pitlane's deploy benchmark\nRequires-Python: >=3.8\n",
    f"{DIST}-{VERSION}.dist-info/WHEEL": "Wheel-Version: 1.0\nGenerator: pitlane-bench-deploy\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
}


def record_line(path: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{path},sha256={digest},{len(data)}"


def main() -> None:
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    wheel = out / f"{DIST}-{VERSION}-py3-none-any.whl"
    record_path = f"{DIST}-{VERSION}.dist-info/RECORD"
    lines = [record_line(p, c.encode()) for p, c in FILES.items()] + [f"{record_path},,"]
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as z:
        for path, content in FILES.items():
            # Fixed timestamps: the same bytes on every run.
            z.writestr(zipfile.ZipInfo(path, date_time=(2020, 1, 1, 0, 0, 0)), content)
        z.writestr(zipfile.ZipInfo(record_path, date_time=(2020, 1, 1, 0, 0, 0)), "\n".join(lines) + "\n")
    print(wheel)


if __name__ == "__main__":
    main()
