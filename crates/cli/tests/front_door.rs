//! The control plane's front door end to end (issue 19): the real aws CLI pointed at
//! Tollgate reaches moto's S3 and SQS through it, a call signed with wrong credentials is
//! refused before anything is forwarded, services Tollgate serves are never forwarded, and
//! a service without an endpoint keeps the control plane's own answer.

mod common;

use std::sync::Arc;

use common::moto::Moto;
use common::*;

fn server(flags: &[String]) -> Server {
    let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
    Server::start_with(Arc::new(tempfile::tempdir().unwrap()), &flags)
}

/// `aws <args>` through Tollgate, which must succeed; its stdout as text.
fn aws_text(s: &Server, args: &[&str]) -> String {
    let out = aws_output(s, args, &[]);
    assert!(
        out.status.success(),
        "aws {args:?} failed:\n{}\n--- server ---\n{}",
        String::from_utf8_lossy(&out.stderr),
        s.stderr()
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn s3_buckets_and_objects_through_the_front_door() {
    let moto = Moto::start();
    let s = server(&moto.flags());
    let dir = tempfile::tempdir().unwrap();
    let up = dir.path().join("up.bin");
    let down = dir.path().join("down.bin");
    // Every byte value, so nothing is read as text on the way.
    let bytes: Vec<u8> = (0..4096u32).map(|i| (i * 7 % 256) as u8).collect();
    std::fs::write(&up, &bytes).unwrap();

    aws_text(&s, &["s3", "mb", "s3://front"]);
    // A key with a space and a plus: S3 signs its path encoded once.
    let key = "s3://front/dir/a b+c.bin";
    aws_text(&s, &["s3", "cp", up.to_str().unwrap(), key]);
    aws_text(&s, &["s3", "cp", key, down.to_str().unwrap()]);
    assert_eq!(std::fs::read(&down).unwrap(), bytes);

    let buckets = aws_text(&s, &["s3", "ls"]);
    assert!(buckets.contains("front"), "{buckets}");
    let listing = aws_text(&s, &["s3", "ls", "s3://front/dir/"]);
    assert!(
        listing.contains("a b+c.bin") && listing.contains("4096"),
        "{listing}"
    );

    // A presigned URL (query-string signature) is verified, then signed anew as a header.
    // (boto3's: `aws s3 presign` of awscli v1 signs with SigV2, which Tollgate does not take.)
    let url = python_script(
        "import boto3, json, sys\n\
         from botocore.config import Config\n\
         s3 = boto3.client('s3', endpoint_url=sys.argv[1], region_name='us-east-1',\n\
             aws_access_key_id='test', aws_secret_access_key='test',\n\
             config=Config(signature_version='s3v4'))\n\
         print(json.dumps(s3.generate_presigned_url('get_object',\n\
             Params={'Bucket': 'front', 'Key': 'dir/a b+c.bin'})))",
        &[&s.endpoint()],
    );
    let url = url.as_str().unwrap();
    assert!(url.contains("X-Amz-Signature="), "{url}");
    let target = url.split_once(&s.endpoint()).unwrap().1.to_string();
    let got = Http::get(s.port, &target).send();
    assert_eq!(got.status, 200, "{}", got.text());
    assert_eq!(got.body, bytes);
    let tampered = target.replace("X-Amz-Signature=", "X-Amz-Signature=0");
    assert_eq!(Http::get(s.port, &tampered).send().status, 403);

    // It is moto's bucket: Tollgate kept nothing of its own.
    let objects = moto.aws(&["s3api", "list-objects-v2", "--bucket", "front"]);
    assert_eq!(objects["Contents"][0]["Key"], "dir/a b+c.bin", "{objects}");
}

#[test]
fn sqs_messages_through_the_front_door() {
    let moto = Moto::start();
    let s = server(&moto.flags());
    let queue = cli_ok(&s, "sqs", &["create-queue", "--queue-name", "front"]);
    let url = queue["QueueUrl"].as_str().unwrap().to_string();
    assert!(url.ends_with("/front"), "{queue}");
    cli_ok(
        &s,
        "sqs",
        &[
            "send-message",
            "--queue-url",
            &url,
            "--message-body",
            "hello & <welcome>",
        ],
    );
    let got = cli_ok(&s, "sqs", &["receive-message", "--queue-url", &url]);
    assert_eq!(got["Messages"][0]["Body"], "hello & <welcome>", "{got}");
    let urls = moto.aws(&["sqs", "list-queues"]);
    assert!(urls.to_string().contains("/front"), "{urls}");
}

#[test]
fn wrong_credentials_are_refused_and_nothing_is_forwarded() {
    let moto = Moto::start();
    let s = server(&moto.flags());
    let wrong = [("AWS_SECRET_ACCESS_KEY", "not-the-secret")];
    let out = aws_output(&s, &["s3", "mb", "s3://refused"], &wrong);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("SignatureDoesNotMatch"), "{stderr}");
    let e = aws_with_env(
        &s,
        &["sqs", "create-queue", "--queue-name", "refused"],
        &wrong,
    )
    .unwrap_err();
    assert!(
        e.stderr.contains("InvalidSignatureException"),
        "{}",
        e.stderr
    );
    let unknown = [("AWS_ACCESS_KEY_ID", "AKIDUNKNOWN")];
    let e = aws_with_env(&s, &["sqs", "list-queues"], &unknown).unwrap_err();
    assert!(
        e.stderr.contains("UnrecognizedClientException"),
        "{}",
        e.stderr
    );

    let buckets = moto.aws(&["s3api", "list-buckets"]);
    assert_eq!(
        buckets["Buckets"].as_array().map(Vec::len),
        Some(0),
        "{buckets}"
    );
    let queues = moto.aws(&["sqs", "list-queues"]);
    assert!(!queues.to_string().contains("refused"), "{queues}");
}

#[test]
fn served_services_stay_and_unconfigured_ones_answer_as_before() {
    let moto = Moto::start();
    let mut flags = moto.flags();
    // Only S3 has an endpoint; SQS has none, DynamoDB's does not answer.
    flags[0] = "--aws-service-endpoint".into();
    flags[1] = format!("s3={}", moto.endpoint());
    flags.extend([
        "--aws-service-endpoint".into(),
        "dynamodb=http://127.0.0.1:9".into(),
    ]);
    let s = server(&flags);

    let e = cli_err(&s, "sqs", &["create-queue", "--queue-name", "nowhere"]);
    assert!(
        e.stderr
            .contains("Credential should be scoped to correct service"),
        "{}",
        e.stderr
    );
    assert!(!moto
        .aws(&["sqs", "list-queues"])
        .to_string()
        .contains("nowhere"));

    let e = cli_err(&s, "dynamodb", &["list-tables"]);
    assert_cli_error(
        &e,
        "BadGateway",
        "The dynamodb endpoint could not be reached",
    );

    // IAM is Tollgate's own: the user is made here, not at the endpoint.
    cli_ok(&s, "iam", &["create-user", "--user-name", "local"]);
    let users = moto.aws(&["iam", "list-users"]);
    assert!(!users.to_string().contains("local"), "{users}");
}

#[test]
fn streaming_payloads_are_refused_in_s3_shape() {
    let moto = Moto::start();
    let s = server(&moto.flags());
    let resp = Http::new(s.port, "PUT", "/front/k")
        .header("host", "127.0.0.1")
        .header(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=test/20240101/us-east-1/s3/aws4_request, \
             SignedHeaders=host, Signature=00",
        )
        .header("x-amz-content-sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD")
        .body("0;chunk-signature=00\r\n\r\n")
        .send();
    assert_eq!(resp.status, 501);
    let body = resp.text();
    assert!(body.contains("<Code>NotImplemented</Code>"), "{body}");
    assert!(body.contains("aws-chunked"), "{body}");
}

/// A key IAM issued: its policy names the forwarded operation (`sqs:SendMessage`, from the
/// JSON protocol's `X-Amz-Target`), or allows the whole service where the call does not name
/// its operation (S3's REST calls: `s3:*`).
#[test]
fn keys_iam_issued_need_the_forwarded_action() {
    let moto = Moto::start();
    let s = server(&moto.flags());
    moto.aws(&["sqs", "create-queue", "--queue-name", "q"]);
    let url = format!("{}/123456789012/q", moto.endpoint());
    cli_ok(&s, "iam", &["create-user", "--user-name", "sender"]);
    let policy = serde_json::json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "*"}
    ]});
    cli_ok(
        &s,
        "iam",
        &[
            "put-user-policy",
            "--user-name",
            "sender",
            "--policy-name",
            "p",
            "--policy-document",
            &policy.to_string(),
        ],
    );
    let key = cli_ok(&s, "iam", &["create-access-key", "--user-name", "sender"]);
    let id = key["AccessKey"]["AccessKeyId"]
        .as_str()
        .unwrap()
        .to_string();
    let secret = key["AccessKey"]["SecretAccessKey"]
        .as_str()
        .unwrap()
        .to_string();
    let env = [
        ("AWS_ACCESS_KEY_ID", id.as_str()),
        ("AWS_SECRET_ACCESS_KEY", secret.as_str()),
    ];
    let send = [
        "sqs",
        "send-message",
        "--queue-url",
        &url,
        "--message-body",
        "m",
    ];
    aws_with_env(&s, &send, &env).unwrap_or_else(|e| panic!("{}", e.stderr));
    let e = aws_with_env(&s, &["sqs", "receive-message", "--queue-url", &url], &env).unwrap_err();
    assert_cli_error(&e, "AccessDeniedException", "sqs:ReceiveMessage");
    let out = aws_output(&s, &["s3", "ls"], &env);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && stderr.contains("AccessDenied"),
        "{stderr}"
    );
    // What was denied never reached the queue; what was allowed did.
    let got = moto.aws(&["sqs", "receive-message", "--queue-url", &url]);
    assert_eq!(got["Messages"][0]["Body"], "m", "{got}");
}

/// Over TLS the SDKs upload to S3 in unsigned `aws-chunked` chunks with a trailing
/// checksum (`STREAMING-UNSIGNED-PAYLOAD-TRAILER`, botocore's default for https): the front
/// door takes the chunks and the trailer apart and forwards a plain upload.
#[test]
fn unsigned_chunked_uploads_over_tls_are_forwarded_whole() {
    let moto = Moto::start();
    let cert = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../gateway/tests/data/localhost.cert.pem"
    );
    let key = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../gateway/tests/data/localhost.key.pem"
    );
    let mut flags = moto.flags();
    flags.extend(["--tls-cert", cert, "--tls-key", key].map(String::from));
    let s = server(&flags);
    let got = python_script(
        "import boto3, json, sys\n\
         from botocore.config import Config\n\
         s3 = boto3.client('s3', endpoint_url=sys.argv[1], region_name='us-east-1',\n\
             aws_access_key_id='test', aws_secret_access_key='test', verify=sys.argv[2],\n\
             config=Config(s3={'addressing_style': 'path'}))\n\
         sent = []\n\
         s3.meta.events.register('before-send.s3.PutObject',\n\
             lambda request, **kw: sent.append(request.headers.get('x-amz-content-sha256')))\n\
         s3.create_bucket(Bucket='chunked')\n\
         body = bytes((i * 7) % 256 for i in range(70000))\n\
         s3.put_object(Bucket='chunked', Key='k.bin', Body=body)\n\
         back = s3.get_object(Bucket='chunked', Key='k.bin')['Body'].read()\n\
         print(json.dumps({'same': back == body, 'sent': [s.decode() if isinstance(s, bytes) else s for s in sent]}))",
        &[&format!("https://localhost:{}", s.port), cert],
    );
    assert_eq!(
        got["sent"],
        serde_json::json!(["STREAMING-UNSIGNED-PAYLOAD-TRAILER"]),
        "botocore sent the upload chunked: {got}"
    );
    assert_eq!(got["same"], true, "{got}");
    // It is moto's object, whole.
    let head = moto.aws(&[
        "s3api",
        "head-object",
        "--bucket",
        "chunked",
        "--key",
        "k.bin",
    ]);
    assert_eq!(head["ContentLength"], 70000, "{head}");
}
