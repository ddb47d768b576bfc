#!/usr/bin/env python3
"""Validate ONNX files with the reference checker: onnx.checker.check_model(path, full_check=True).

Usage: check-onnx.py [--canonical] FILE...

Prints "OK <path>" per valid file and "FAIL <path>: <reason>" otherwise; exits 1 if any file
fails, 2 on bad usage or when the onnx module is missing. full_check also runs strict shape and
type inference, so a graph whose operators do not type-check fails here before ONNX Runtime
ever sees it. --canonical additionally requires the file to equal the reference protobuf
serializer's bytes for the same message (Mass writes protobuf by hand; this catches a field
written out of order or packed when onnx.proto says it is not).
"""
import sys


def main(argv: list[str]) -> int:
    canonical = "--canonical" in argv
    paths = [a for a in argv if a != "--canonical"]
    if not paths or any(p.startswith("--") for p in paths):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    try:
        import onnx
    except ImportError as e:
        print(f"onnx is not importable ({e}); install python3-onnx", file=sys.stderr)
        return 2

    failed = 0
    for path in paths:
        try:
            onnx.checker.check_model(path, full_check=True)
            if canonical:
                with open(path, "rb") as f:
                    data = f.read()
                if onnx.load_from_string(data).SerializeToString() != data:
                    raise ValueError("bytes differ from the reference serialization")
        except Exception as e:  # the checker raises several exception types; report each one
            failed += 1
            print(f"FAIL {path}: {type(e).__name__}: {e}")
        else:
            print(f"OK {path}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
