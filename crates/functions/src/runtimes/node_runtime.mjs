// Tollgate's runtime loop for nodejs functions: the Lambda Runtime API client that AWS's
// managed Node.js runtime provides, so functions run with nothing extra installed.
// Handlers may be async, return a promise, or take a callback; CommonJS and ES modules load.
import http from "node:http";
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";

const [HOST, PORT] = process.env.AWS_LAMBDA_RUNTIME_API.split(":");
const BASE = "/2018-06-01/runtime";
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

function call(method, p, body, headers = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: HOST, port: Number(PORT), method, path: BASE + p, agent, headers },
      (res) => {
        const chunks = [];
        res.on("data", (c) => chunks.push(c));
        res.on("end", () => resolve({ res, body: Buffer.concat(chunks) }));
      },
    );
    req.on("error", reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

function errorDocument(err) {
  const e = err instanceof Error ? err : new Error(String(err));
  return {
    errorType: e.name || "Error",
    errorMessage: e.message,
    trace: (e.stack || "").split("\n"),
  };
}

async function loadHandler() {
  const handlerSpec = process.env._HANDLER;
  const dot = handlerSpec.lastIndexOf(".");
  const moduleName = handlerSpec.slice(0, dot);
  const fnName = handlerSpec.slice(dot + 1);
  const root = process.env.LAMBDA_TASK_ROOT;
  const candidates = [".js", ".mjs", ".cjs"].map((ext) => path.join(root, moduleName + ext));
  const file = candidates.find((f) => fs.existsSync(f));
  if (!file) {
    throw Object.assign(new Error(`Cannot find module '${moduleName}'`), {
      name: "Runtime.ImportModuleError",
    });
  }
  const mod = await import(pathToFileURL(file).href);
  const handler = mod[fnName] ?? mod.default?.[fnName];
  if (typeof handler !== "function") {
    throw Object.assign(new Error(`${moduleName}.${fnName} is undefined or not exported`), {
      name: "Runtime.HandlerNotFound",
    });
  }
  return handler;
}

function invokeHandler(handler, event, context) {
  return new Promise((resolve, reject) => {
    const callback = (err, result) => (err ? reject(err) : resolve(result));
    context.done = callback;
    context.succeed = (r) => resolve(r);
    context.fail = (e) => reject(e);
    try {
      const out = handler(event, context, callback);
      if (out && typeof out.then === "function") out.then(resolve, reject);
      else if (handler.length < 3) resolve(out);
    } catch (e) {
      reject(e);
    }
  });
}

async function main() {
  let handler;
  try {
    handler = await loadHandler();
  } catch (e) {
    const doc = errorDocument(e);
    console.error(`ERROR\t${doc.errorType}: ${doc.errorMessage}`);
    await call("POST", "/init/error", JSON.stringify(doc), {
      "Lambda-Runtime-Function-Error-Type": doc.errorType,
    });
    process.exit(1);
  }
  for (;;) {
    const { res, body } = await call("GET", "/invocation/next");
    if (res.statusCode !== 200) process.exit(0);
    const requestId = res.headers["lambda-runtime-aws-request-id"];
    const deadline = Number(res.headers["lambda-runtime-deadline-ms"] || 0);
    process.env._X_AMZN_TRACE_ID = res.headers["lambda-runtime-trace-id"] || "";
    const cc = res.headers["lambda-runtime-client-context"];
    const context = {
      awsRequestId: requestId,
      invokedFunctionArn: res.headers["lambda-runtime-invoked-function-arn"],
      functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
      functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION,
      memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
      logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
      logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME,
      clientContext: cc ? JSON.parse(cc) : undefined,
      callbackWaitsForEmptyEventLoop: true,
      getRemainingTimeInMillis: () => Math.max(deadline - Date.now(), 0),
    };
    try {
      const event = body.length ? JSON.parse(body.toString("utf8")) : {};
      const result = await invokeHandler(handler, event, context);
      const out = JSON.stringify(result === undefined ? null : result);
      await call("POST", `/invocation/${requestId}/response`, out);
    } catch (e) {
      const doc = errorDocument(e);
      console.error(`${new Date().toISOString()}\t${requestId}\tERROR\tInvoke Error \t${JSON.stringify(doc)}`);
      await call("POST", `/invocation/${requestId}/error`, JSON.stringify(doc), {
        "Lambda-Runtime-Function-Error-Type": "Unhandled",
      });
    }
  }
}

main();
