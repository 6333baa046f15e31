"""A file_search run streamed through the official Python `openai` package's AssistantEventHandler.

Run by test/integration/fileSearchPython.test.ts against a live Threadline whose assistant searches a seeded
vector store; prints one JSON line with what the SDK handed back (the file_search call it saw created, the
annotations `on_text_delta` received, the final message and the completed step with `include[]` content).
"""

import json
import os

from openai import AssistantEventHandler, OpenAI
from typing_extensions import override


class Recorder(AssistantEventHandler):
    def __init__(self) -> None:
        super().__init__()
        self.text = ""
        self.annotations: list[dict] = []
        self.calls_created: list[dict] = []
        self.steps_done: list[dict] = []

    @override
    def on_text_delta(self, delta, snapshot) -> None:
        self.text += delta.value or ""
        for annotation in delta.annotations or []:
            self.annotations.append(annotation.model_dump(exclude_none=True))

    @override
    def on_tool_call_created(self, tool_call) -> None:
        self.calls_created.append(tool_call.model_dump(exclude_none=True))

    @override
    def on_run_step_done(self, run_step) -> None:
        self.steps_done.append(run_step.model_dump(exclude_none=True))


def main() -> None:
    client = OpenAI(base_url=os.environ["THREADLINE_BASE_URL"], api_key="test-key", max_retries=0)
    thread = client.beta.threads.create(messages=[{"role": "user", "content": "Who hunted the whale?"}])
    recorder = Recorder()
    with client.beta.threads.runs.stream(
        thread_id=thread.id,
        assistant_id=os.environ["THREADLINE_ASSISTANT_ID"],
        include=["step_details.tool_calls[*].file_search.results[*].content"],
        event_handler=recorder,
    ) as stream:
        stream.until_done()
    final_messages = recorder.get_final_messages()
    print(
        json.dumps(
            {
                "status": recorder.get_final_run().status,
                "text": recorder.text,
                "annotations": recorder.annotations,
                "calls_created": recorder.calls_created,
                "final_message": final_messages[-1].model_dump(exclude_none=True)["content"],
                "steps_done": recorder.steps_done,
            }
        )
    )


if __name__ == "__main__":
    main()
