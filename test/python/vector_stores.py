"""Vector stores through the official Python `openai` package's polling helpers.

Run by test/integration/vectorStoresPython.test.ts against a live Threadline with THREADLINE_BASE_URL; prints
one JSON line with what the SDK returned, for the Jest side to check.
"""

import json
import os

from openai import OpenAI

client = OpenAI(base_url=os.environ["THREADLINE_BASE_URL"], api_key="test-key", max_retries=0)

store = client.vector_stores.create(name="python", metadata={"lang": "py"})
single = client.vector_stores.files.upload_and_poll(
    vector_store_id=store.id,
    file=("tides.md", b"# Tides\n\nThe moon pulls the tides twice a day.", "text/markdown"),
    poll_interval_ms=100,
)
batch = client.vector_stores.file_batches.upload_and_poll(
    vector_store_id=store.id,
    files=[
        ("winds.txt", b"Trade winds blow from the east."),
        ("reef.html", b"<p>The <i>coral</i> reef shelters fish.</p>"),
    ],
    poll_interval_ms=100,
)
extra = client.files.create(file=("currents.txt", b"The Gulf Stream is a warm current."), purpose="assistants")
created = client.vector_stores.file_batches.create_and_poll(
    vector_store_id=store.id,
    file_ids=[extra.id],
    chunking_strategy={"type": "static", "static": {"max_chunk_size_tokens": 200, "chunk_overlap_tokens": 100}},
    poll_interval_ms=100,
)
client.vector_stores.files.update(file_id=extra.id, vector_store_id=store.id, attributes={"topic": "currents"})
results = client.vector_stores.search(
    vector_store_id=store.id,
    query="warm current",
    filters={"type": "eq", "key": "topic", "value": "currents"},
)
content = client.vector_stores.files.content(file_id=single.id, vector_store_id=store.id)
print(
    json.dumps(
        {
            "single": single.model_dump(),
            "batch": batch.model_dump(),
            "created": created.model_dump(),
            "search": [hit.model_dump() for hit in results],
            "content": [part.model_dump() for part in content],
            "store": client.vector_stores.retrieve(store.id).model_dump(),
            "extra_id": extra.id,
        }
    )
)
