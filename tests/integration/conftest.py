import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
TUNDRA = os.environ.get("TUNDRA", os.path.join(ROOT, "build", "tundra"))
