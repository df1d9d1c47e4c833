#!/usr/bin/env python3
"""yaml2json.py IN OUT - converts the OpenAPI document from YAML (the form
people edit) to JSON (the form the REST core serves at /openapi.json)."""
import json
import sys

import yaml

with open(sys.argv[1], encoding="utf-8") as f:
    doc = yaml.safe_load(f)
with open(sys.argv[2], "w", encoding="utf-8") as f:
    json.dump(doc, f, separators=(",", ":"), ensure_ascii=False)
