# Tollgate's runtime loop for python3.x functions: the Lambda Runtime API client that AWS's
# managed Python runtime provides, so functions run with nothing extra installed.
# Protocol: https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html (2018-06-01).
import http.client
import importlib
import json
import os
import sys
import time
import traceback

API = os.environ["AWS_LAMBDA_RUNTIME_API"]
HOST, PORT = API.rsplit(":", 1)
BASE = "/2018-06-01/runtime"
conn = http.client.HTTPConnection(HOST, int(PORT))


def call(method, path, body=None, headers=None):
    conn.request(method, BASE + path, body=body, headers=headers or {})
    resp = conn.getresponse()
    return resp, resp.read()


def error_document(exc, request_id=None):
    doc = {
        "errorMessage": str(exc),
        "errorType": type(exc).__name__,
        "requestId": request_id or "",
        "stackTrace": traceback.format_list(traceback.extract_tb(exc.__traceback__)[1:]),
    }
    return doc


class Context:
    def __init__(self, request_id, deadline_ms, arn, client_context):
        self.aws_request_id = request_id
        self.invoked_function_arn = arn
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION")
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self.identity = None
        self.client_context = json.loads(client_context) if client_context else None
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self):
        return max(self._deadline_ms - int(time.time() * 1000), 0)


def load_handler():
    module_name, _, function_name = os.environ["_HANDLER"].rpartition(".")
    sys.path.insert(0, os.environ["LAMBDA_TASK_ROOT"])
    try:
        module = importlib.import_module(module_name.replace("/", "."))
    except Exception as exc:
        return None, {
            "errorMessage": "Unable to import module '%s': %s" % (module_name, exc),
            "errorType": "Runtime.ImportModuleError",
            "requestId": "",
            "stackTrace": [],
        }
    handler = getattr(module, function_name, None)
    if handler is None:
        return None, {
            "errorMessage": "Handler '%s' missing on module '%s'" % (function_name, module_name),
            "errorType": "Runtime.HandlerNotFound",
            "requestId": "",
            "stackTrace": [],
        }
    return handler, None


def main():
    handler, init_error = load_handler()
    if init_error is not None:
        print("[ERROR] %s: %s" % (init_error["errorType"], init_error["errorMessage"]), file=sys.stderr)
        call("POST", "/init/error", json.dumps(init_error),
             {"Lambda-Runtime-Function-Error-Type": init_error["errorType"]})
        sys.exit(1)
    while True:
        resp, body = call("GET", "/invocation/next")
        if resp.status != 200:
            sys.exit(0)
        request_id = resp.getheader("Lambda-Runtime-Aws-Request-Id")
        context = Context(
            request_id,
            int(resp.getheader("Lambda-Runtime-Deadline-Ms") or 0),
            resp.getheader("Lambda-Runtime-Invoked-Function-Arn"),
            resp.getheader("Lambda-Runtime-Client-Context"),
        )
        os.environ["_X_AMZN_TRACE_ID"] = resp.getheader("Lambda-Runtime-Trace-Id") or ""
        try:
            event = json.loads(body) if body else {}
            result = handler(event, context)
            out = json.dumps(result)
        except Exception as exc:
            doc = error_document(exc, request_id)
            print("[ERROR] %s: %s" % (doc["errorType"], doc["errorMessage"]), file=sys.stderr)
            sys.stderr.write("Traceback (most recent call last):\n" + "".join(doc["stackTrace"]))
            call("POST", "/invocation/%s/error" % request_id, json.dumps(doc),
                 {"Lambda-Runtime-Function-Error-Type": "Unhandled"})
            continue
        call("POST", "/invocation/%s/response" % request_id, out)


main()
