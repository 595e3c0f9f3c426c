"""`echo`: returns its input unchanged; the smallest end-to-end check of the job machinery."""

from __future__ import annotations

from ..base import Process
from ..results import Output


class Echo(Process):
    id = "echo"
    title = "Echo"
    description = "Returns the input message unchanged."
    keywords = ["test"]
    inputs = {"message": {"title": "Message", "description": "any text", "required": True, "schema": {"type": "string"}}}
    outputs = {"echo": {"title": "Echo", "description": "the message", "schema": {"type": "string"},
                        "formats": ["text/plain", "application/json"]}}

    def execute(self, params, job):
        if job.output_format("echo") == "application/json":  # the message as a JSON string
            return {"echo": Output(value=params["message"], media_type="application/json")}
        return {"echo": Output(value=params["message"], media_type="text/plain")}
