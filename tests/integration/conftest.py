import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
TUNDRA = os.environ.get("TUNDRA", os.path.join(ROOT, "build", "tundra"))
# TUNDRA_OFFLOAD=on runs every stack the suites start with --offload=on
# (virtio-net header, partial checksums, GSO super-packets); `make
# integration` runs the stack and TCP suites both ways.
OFFLOAD = os.environ.get("TUNDRA_OFFLOAD", "off")
OFFLOAD_ARGS = [f"--offload={OFFLOAD}"]
