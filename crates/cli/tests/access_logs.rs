//! Access logs through the real server: each worker thread buffers its lines and one writer
//! thread appends them, so a graceful stop (SIGTERM) must write every line of every request
//! the server answered before it exits.

mod common;

use common::*;

#[test]
fn sigterm_writes_every_buffered_line() {
    let mut s = Server::start();
    let cp = Cp::new(&s);
    let (api, root) = cp.create_api("logged");
    let res = cp.resource(&api, &root, "ping");
    cp.mock(&api, &res, "GET", r#"{"ok": true}"#);
    cp.deploy(&api, "prod");
    set_access_log(&s, &api, "prod", "$context.requestId $context.status");
    let file = s
        .data_path()
        .join("access-logs")
        .join(format!("{api}-prod.log"));
    // The setting is in force once a request's line shows up.
    eventually("the first access log line", || {
        let r = s.invoke(&api, "/prod/ping");
        assert_eq!(r.status, 200, "{r}");
        let id = r.header("x-amzn-RequestId")?.to_string();
        std::thread::sleep(std::time::Duration::from_millis(300));
        read_if_exists(&file).contains(&id).then_some(())
    });

    // Many connections from several clients, so every worker thread holds lines.
    let port = s.port;
    let path = Server::exec_path(&api, "/prod/ping");
    let ids: Vec<String> = std::thread::scope(|sc| {
        let clients: Vec<_> = (0..4)
            .map(|_| {
                sc.spawn(|| {
                    (0..100)
                        .map(|_| {
                            let r = Http::get(port, &path).send();
                            assert_eq!(r.status, 200, "{r}");
                            r.header("x-amzn-RequestId").unwrap().to_string()
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        clients
            .into_iter()
            .flat_map(|c| c.join().unwrap())
            .collect()
    });
    let status = s.sigterm();
    assert!(status.success(), "{status}: {}", s.stderr());

    let text = read_if_exists(&file);
    for id in &ids {
        let n = text.lines().filter(|l| *l == format!("{id} 200")).count();
        assert_eq!(n, 1, "request {id} logged {n} times:\n{text}");
    }
}
