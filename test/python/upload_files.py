"""Uploads through the official Python `openai` package, in the three ways its `files.create` takes a file.

Run by test/integration/filesPython.test.ts against a live Threadline with THREADLINE_BASE_URL and
THREADLINE_UPLOAD_DIR (a directory holding `report.csv`); prints one JSON line with the File objects the SDK
returned and the bytes `files.content` gave back (hex), for the Jest side to compare with what was sent.
"""

import json
import os

from openai import OpenAI

client = OpenAI(base_url=os.environ["THREADLINE_BASE_URL"], api_key="test-key", max_retries=0)
upload_dir = os.environ["THREADLINE_UPLOAD_DIR"]

uploads = {}
with open(os.path.join(upload_dir, "report.csv"), "rb") as handle:
    uploads["open_file"] = client.files.create(file=handle, purpose="assistants")
uploads["tuple"] = client.files.create(
    file=("résumé ✓.txt", "caf\u00e9 \u2615\n".encode("utf-8")),
    purpose="user_data",
)
uploads["raw_bytes"] = client.files.create(
    file=bytes(range(256)) * 4,
    purpose="batch",
    expires_after={"anchor": "created_at", "seconds": 7200},
)

report = {}
for name, created in uploads.items():
    report[name] = {
        "file": created.model_dump(),
        "retrieved": client.files.retrieve(created.id).model_dump(),
        "content_hex": client.files.content(created.id).read().hex(),
    }
report["listed_user_data"] = [f.id for f in client.files.list(purpose="user_data")]
deleted = client.files.delete(uploads["tuple"].id)
report["deleted"] = deleted.model_dump()
print(json.dumps(report))
