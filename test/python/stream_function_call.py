"""A function-calling round trip through the official Python `openai` package's streaming helpers.

Run by test/integration/pythonSdk.test.ts against a live Threadline; prints one JSON line describing what
the SDK handed back, for the Jest side to assert on. Any SDK exception (a delta for an unknown step, a
missing final run...) fails the script with a traceback.
"""

import json
import os

from openai import AssistantEventHandler, OpenAI
from typing_extensions import override


class Recorder(AssistantEventHandler):
    def __init__(self) -> None:
        super().__init__()
        self.events: list[str] = []
        self.text = ""
        self.calls_created: list[str] = []
        self.arguments: dict[int, str] = {}
        self.steps_done: list[dict] = []

    @override
    def on_event(self, event) -> None:
        self.events.append(event.event)

    @override
    def on_text_delta(self, delta, snapshot) -> None:
        self.text += delta.value or ""

    @override
    def on_tool_call_created(self, tool_call) -> None:
        self.calls_created.append(tool_call.id)

    @override
    def on_tool_call_delta(self, delta, snapshot) -> None:
        if delta.type == "function" and delta.function and delta.function.arguments:
            self.arguments[delta.index] = self.arguments.get(delta.index, "") + delta.function.arguments

    @override
    def on_run_step_done(self, run_step) -> None:
        self.steps_done.append(run_step.model_dump())


def main() -> None:
    client = OpenAI(base_url=os.environ["THREADLINE_BASE_URL"], api_key="test-key", max_retries=0)
    assistant_id = os.environ["THREADLINE_ASSISTANT_ID"]
    thread = client.beta.threads.create(messages=[{"role": "user", "content": "Weather in Paris and the time?"}])

    first = Recorder()
    with client.beta.threads.runs.stream(
        thread_id=thread.id, assistant_id=assistant_id, event_handler=first
    ) as stream:
        stream.until_done()
    paused = first.get_final_run()
    calls = paused.required_action.submit_tool_outputs.tool_calls if paused.required_action else []

    second = Recorder()
    with client.beta.threads.runs.submit_tool_outputs_stream(
        thread_id=thread.id,
        run_id=paused.id,
        tool_outputs=[{"tool_call_id": c.id, "output": f"answer to {c.function.name}"} for c in calls],
        event_handler=second,
    ) as stream:
        stream.until_done()
    final = second.get_final_run()
    messages = second.get_final_messages()

    print(
        json.dumps(
            {
                "paused_status": paused.status,
                "required_calls": [
                    {"id": c.id, "name": c.function.name, "arguments": c.function.arguments} for c in calls
                ],
                "calls_created": first.calls_created,
                "streamed_arguments": [first.arguments[i] for i in sorted(first.arguments)],
                "first_events": first.events,
                "final_status": final.status,
                "text": second.text,
                "final_message_text": messages[0].content[0].text.value if messages else None,
                "second_events": second.events,
                "steps_done": [s["type"] for s in second.steps_done],
            }
        )
    )


if __name__ == "__main__":
    main()
