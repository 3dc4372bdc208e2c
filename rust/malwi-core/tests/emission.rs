//! Behaviour of the emitter stated as assertions: what DESIGN.md §3 requires, independently of
//! the exact snapshots.

use malwi_core::{compile_source, FeaturizerConfig, Language, MalwiObject};
use sha2::{Digest, Sha256};

fn compile(source: &str, language: Language) -> Vec<MalwiObject> {
    compile_source(source.as_bytes(), language, "test", &FeaturizerConfig::default()).expect("compiles")
}

fn python(source: &str) -> Vec<MalwiObject> {
    compile(source, Language::Python)
}

fn javascript(source: &str) -> Vec<MalwiObject> {
    compile(source, Language::JavaScript)
}

fn all_tokens(objects: &[MalwiObject]) -> String {
    objects.iter().map(|o| o.token_string()).collect::<Vec<_>>().join(" | ")
}

fn object<'a>(objects: &'a [MalwiObject], name: &str) -> &'a MalwiObject {
    objects.iter().find(|o| o.name == name).unwrap_or_else(|| panic!("no object {name}"))
}

/// The tokens emitted after the last store: the final line's call in these small cases.
fn after_last_store(tokens: &str) -> &str {
    match tokens.rfind("STORE_NAME ") {
        Some(at) => {
            tokens[at..].split_once(' ').and_then(|(_, rest)| rest.split_once(' ')).map_or("", |(_, rest)| rest)
        }
        None => tokens,
    }
}

#[test]
fn every_import_form_resolves_to_the_api_category() {
    let cases = [
        ("import subprocess as sp\nsp.Popen(x)\n", Language::Python),
        ("from os import system as s\ns(x)\n", Language::Python),
        ("__import__('os').system(x)\n", Language::Python),
        ("import importlib\nimportlib.import_module('subprocess').run(x)\n", Language::Python),
        ("require('child_process').exec(x);\n", Language::JavaScript),
        ("const {exec} = require('child_process');\nexec(x);\n", Language::JavaScript),
        ("import { spawn } from 'node:child_process';\nspawn(x);\n", Language::JavaScript),
    ];
    for (source, language) in cases {
        let objects = compile(source, language);
        let call = after_last_store(objects[0].token_string());
        // The category must be on the call itself, not only on the import.
        assert!(call.contains("PROCESS_MANAGEMENT"), "{source:?}: {call}");
    }
}

#[test]
fn aliases_are_canonicalized() {
    let aliased = python("import subprocess as sp\nsp.Popen(x)\n");
    let direct = python("import subprocess\nsubprocess.Popen(x)\n");
    let imported = python("from subprocess import Popen\nPopen(x)\n");
    let call = after_last_store(aliased[0].token_string());
    assert_eq!(call, "LOAD_NAME subprocess LOAD_ATTR PROCESS_MANAGEMENT LOAD_NAME x CALL 1 POP_TOP");
    assert_eq!(call, after_last_store(direct[0].token_string()));
    assert_eq!(call, after_last_store(imported[0].token_string()));
}

#[test]
fn javascript_uses_javascript_tables() {
    // `exec` is a Python builtin, not a JavaScript global; `eval` is both.
    assert!(!all_tokens(&javascript("exec(code);")).contains("DYNAMIC_CODE_EXECUTION"));
    assert!(all_tokens(&python("exec(code)")).contains("DYNAMIC_CODE_EXECUTION"));
    assert!(all_tokens(&javascript("eval(code);")).contains("DYNAMIC_CODE_EXECUTION"));
    // Node's `fs` is not Python's; Python's `os.system` is not Node's `os`.
    assert!(all_tokens(&javascript("const fs = require('fs'); fs.readFileSync(p);")).contains("FILESYSTEM_ACCESS"));
    assert!(!all_tokens(&javascript("const os = require('os'); os.system(p);")).contains("PROCESS_MANAGEMENT"));
}

#[test]
fn nothing_is_dropped_from_branches() {
    let cases = [
        "if a:\n    one()\nelif b:\n    two()\nelse:\n    three()\n",
        "try:\n    one()\nexcept E:\n    two()\nelse:\n    three()\nfinally:\n    four()\n",
        "try:\n    one()\nexcept:\n    two()\nx = three() if c else four()\n",
        "match v:\n    case 1:\n        one()\n    case [a]:\n        two()\n    case _:\n        three()\n",
    ];
    for source in cases {
        let tokens = all_tokens(&python(source));
        for name in ["one", "two", "three"] {
            assert!(tokens.contains(&format!("LOAD_NAME {name}")), "{name} missing from {source:?}: {tokens}");
        }
    }
    let js = [
        "if (a) { one(); } else if (b) { two(); } else { three(); }",
        "try { one(); } catch (e) { two(); } finally { three(); }",
        "switch (v) { case 1: one(); break; case 2: two(); break; default: three(); }",
        "for (one(); two(); three()) {}",
        "const x = c ? one() : two(); three();",
        "export default function f() { one(); two(); three(); }",
    ];
    for source in js {
        let tokens = all_tokens(&javascript(source));
        for name in ["one", "two", "three"] {
            assert!(tokens.contains(&format!("LOAD_NAME {name}")), "{name} missing from {source:?}: {tokens}");
        }
    }
}

#[test]
fn operators_keep_their_identity() {
    let tokens =
        python("a += 1\nb -= 1\nc = d < e\nf = g >= h\ni = j is not k\nl = m not in n\n")[0].token_string().to_string();
    for operator in
        ["BINARY_OP +=", "BINARY_OP -=", "COMPARE_OP <", "COMPARE_OP >=", "COMPARE_OP is_not", "COMPARE_OP not_in"]
    {
        assert!(tokens.contains(operator), "{operator} missing: {tokens}");
    }
    assert!(tokens.contains("STORE_NAME a") && tokens.contains("STORE_NAME b"), "augmented stores: {tokens}");
    let js = javascript("a === b; c !== d; e ??= f; g >>>= 1;")[0].token_string().to_string();
    for operator in ["COMPARE_OP ===", "COMPARE_OP !==", "BINARY_OP ??=", "BINARY_OP >>>="] {
        assert!(js.contains(operator), "{operator} missing: {js}");
    }
}

#[test]
fn integers_stay_integers() {
    let tokens = python("x = [42, 0x10, 1_000]\ny = '42'\n")[0].token_string().to_string();
    assert!(tokens.contains("LOAD_CONST 42 LOAD_CONST 16 LOAD_CONST 1000"), "{tokens}");
    assert!(tokens.contains("LOAD_CONST '42'"), "a string of digits stays a string: {tokens}");
}

#[test]
fn scope_state_does_not_leak() {
    let objects = python("def a():\n    import subprocess as h\n    h.call(x)\n\ndef b():\n    h.call(x)\n");
    assert!(object(&objects, "a").token_string().contains("PROCESS_MANAGEMENT"));
    assert!(
        !object(&objects, "b").token_string().contains("PROCESS_MANAGEMENT"),
        "{}",
        object(&objects, "b").token_string()
    );
    // Nor between files: a second compilation starts from nothing.
    let first = python("import subprocess as h\n");
    let second = python("h.call(x)\n");
    assert!(!first.is_empty());
    assert!(first[0].token_string().contains("IMPORT_NAME subprocess STORE_NAME h"), "{}", first[0].token_string());
    assert!(!second[0].token_string().contains("PROCESS_MANAGEMENT"));
}

#[test]
fn local_bindings_shadow_apis() {
    let objects = python("import os\ndef f(os):\n    os.system(x)\n");
    assert!(!object(&objects, "f").token_string().contains("PROCESS_MANAGEMENT"));
    let objects = python("def g():\n    exec = print\n    exec(x)\n");
    assert!(!object(&objects, "g").token_string().contains("DYNAMIC_CODE_EXECUTION"));
}

#[test]
fn decorators_with_attributes_and_calls_are_kept() {
    let tokens = python("@app.route('login')\n@cache\ndef view():\n    pass\n")[0].token_string().to_string();
    assert!(tokens.contains("LOAD_NAME app LOAD_ATTR route LOAD_CONST 'login' CALL 1"), "{tokens}");
    assert!(tokens.contains("LOAD_NAME cache"), "{tokens}");
    assert!(tokens.contains("MAKE_FUNCTION view CALL 1 CALL 1 STORE_NAME view"), "{tokens}");
}

#[test]
fn es_module_imports_and_exports_are_kept() {
    let tokens =
        javascript("import a, {b as c} from 'm';\nexport const d = 1;\nexport {c as e};\nexport * from 'n';\n")[0]
            .token_string()
            .to_string();
    for expected in ["IMPORT_NAME m", "IMPORT_FROM b STORE_NAME c", "EXPORT_NAME d", "EXPORT_NAME e", "EXPORT_STAR"] {
        assert!(tokens.contains(expected), "{expected} missing: {tokens}");
    }
}

#[test]
fn objects_have_names_kinds_and_spans() {
    let objects = python("import os\n\nclass A:\n    def m(self):\n        pass\n\ndef f():\n    return lambda: 1\n");
    let summary: Vec<String> =
        objects.iter().map(|o| format!("{} {} {}-{}", o.kind.name(), o.name, o.lines.0, o.lines.1)).collect();
    assert_eq!(
        summary,
        ["module <module> 1-8", "class A 3-5", "method A.m 4-5", "function f 7-8", "lambda <lambda> 8-8"]
    );
    assert_eq!(object(&objects, "A.m").source_code(), "def m(self):\n        pass");
    for object in &objects {
        assert_eq!(object.hash().len(), 64);
        // The hash is the hex SHA-256 of the token string.
        assert_eq!(object.hash(), hex::encode(Sha256::digest(object.token_string().as_bytes())), "{}", object.name);
    }
}

#[test]
fn method_granularity_is_a_setting() {
    let source = b"class A:\n    def m(self):\n        os.system(x)\n";
    let config = FeaturizerConfig { methods: malwi_core::Granularity::Inline, ..Default::default() };
    let inline = compile_source(source, Language::Python, "t", &config).unwrap();
    assert_eq!(inline.len(), 2);
    assert_eq!(inline.iter().map(|o| o.name.as_str()).collect::<Vec<_>>(), ["<module>", "A"]);
    assert!(inline[1].token_string().contains("PROCESS_MANAGEMENT"));
    let separate = python(std::str::from_utf8(source).unwrap());
    assert_eq!(separate.len(), 3);
    assert_eq!(separate.iter().map(|o| o.name.as_str()).collect::<Vec<_>>(), ["<module>", "A", "A.m"]);
    assert!(object(&separate, "A.m").token_string().contains("PROCESS_MANAGEMENT"));
    assert!(!object(&separate, "A").token_string().contains("PROCESS_MANAGEMENT"), "the method is its own object");
}

#[test]
fn output_is_deterministic_and_hash_follows_tokens() {
    let source = "import os\nfor k in os.environ:\n    print(k)\n";
    let a = python(source);
    let b = python(source);
    assert_eq!(all_tokens(&a), all_tokens(&b));
    assert_eq!(a[0].hash(), b[0].hash());
    let renamed =
        compile_source(source.as_bytes(), Language::Python, "other/path.py", &FeaturizerConfig::default()).unwrap();
    assert_eq!(renamed[0].hash(), a[0].hash(), "the hash depends on tokens only");
}

#[test]
fn tokens_never_contain_whitespace_and_split_back_exactly() {
    let objects = python("x = 'a b\\tc'\ny = \"\"\nz = '''multi\nline'''\n");
    for object in &objects {
        let tokens: Vec<&str> = object.tokens().collect();
        assert_eq!(tokens.join(" "), object.token_string());
        assert!(tokens.iter().all(|t| !t.is_empty() && !t.contains(char::is_whitespace)), "{tokens:?}");
    }
}

#[test]
fn reserved_words_from_source_are_escaped() {
    let tokens = python("CALL = STRING_URL\n")[0].token_string().to_string();
    assert_eq!(tokens, "LOAD_NAME _STRING_URL STORE_NAME _CALL");
}

#[test]
fn deep_nesting_is_compiled_without_crashing() {
    for depth in [1_000usize, 100_000] {
        let source = format!("x = {}1{}\n", "[".repeat(depth), "]".repeat(depth));
        let objects = python(&source);
        let tokens = objects[0].token_string();
        assert!(tokens.contains("LOAD_CONST 1"), "the innermost value is kept");
        assert!(tokens.contains("DEEP_NESTING"), "past the limit the subtree is flattened");
        assert!(tokens.ends_with("STORE_NAME x"));
        let js = format!("x = {}1{};\n", "(".repeat(depth), ")".repeat(depth));
        assert!(javascript(&js)[0].token_string().contains("LOAD_CONST 1"));
    }
}

#[test]
fn long_chains_need_no_recursion() {
    let chain = format!("x = a{}\n", ".b()".repeat(20_000));
    let tokens = python(&chain)[0].token_string().to_string();
    assert!(tokens.ends_with("STORE_NAME x"));
    let concat = format!("var s = 'a'{};\n", " + 'b'".repeat(50_000));
    let tokens = javascript(&concat)[0].token_string().to_string();
    assert_eq!(tokens.matches("BINARY_OP +").count(), 50_000);
    assert!(!tokens.contains("DEEP_NESTING"));
    let calls = format!("x{};\n", ".then(f)".repeat(20_000));
    let tokens = javascript(&calls)[0].token_string().to_string();
    assert_eq!(tokens.matches("CALL 1").count(), 20_000);
    assert!(!tokens.contains("DEEP_NESTING"));
}

/// Found by the fuzzer: a store that re-emitted its target doubled the output at each level of
/// `x-- -- --` (exponential). Every target must be emitted once.
#[test]
fn nested_updates_and_augmented_assignments_stay_linear() {
    for depth in [10usize, 20, 40] {
        for source in
            [format!("x{};\n", " --".repeat(depth)), format!("{}x{};\n", "(".repeat(depth), ")++".repeat(depth))]
        {
            let size: usize = javascript(&source).iter().map(|o| o.token_string().len()).sum();
            assert!(size <= 64 * source.len() + 4096, "{size} bytes of tokens for {} bytes of source", source.len());
        }
        let python_source = format!("{}x{} += 1\n", "(".repeat(depth), ")".repeat(depth));
        let size: usize = python(&python_source).iter().map(|o| o.token_string().len()).sum();
        assert!(size <= 64 * python_source.len() + 4096);
    }
}

/// Found by hypothesis: U+0085 is part of a JavaScript identifier but whitespace to Rust.
#[test]
fn names_that_are_only_unicode_whitespace_still_make_a_token() {
    for object in javascript("\u{85};") {
        assert!(object.tokens().all(|t| !t.is_empty()), "{:?}", object.token_string());
    }
}

fn imports(source: &str, language: Language) -> Vec<String> {
    let text = malwi_core::SourceText::decode(source.as_bytes().to_vec());
    malwi_core::compile_text_full(&text, language, "test", &FeaturizerConfig::default()).expect("compiles").imports
}

#[test]
fn the_modules_a_file_imports_are_recorded_once_each_in_order() {
    let python = "import os, sys.path\nfrom . import helpers\nfrom .core import thing\nfrom tests import evil\n\
                  import os\ndef f():\n    importlib.import_module('json')\n    __import__('base64')\n";
    assert_eq!(
        imports(python, Language::Python),
        ["os", "sys.path", ".", ".helpers", ".core", ".core.thing", "tests", "tests.evil", "json", "base64"]
    );
    let javascript = "const fs = require('node:fs');\nrequire('./lib/x.js');\nimport cp from 'child_process';\n\
                      import('./dyn');\nrequire(name);\n";
    assert_eq!(imports(javascript, Language::JavaScript), ["fs", "./lib/x.js", "child_process", "./dyn"]);
}

#[test]
fn imports_inside_decoded_payloads_are_recorded_too() {
    // exec(base64.b64decode(...)) of code that imports `tests.payload`: its import counts.
    let source = "import base64\nexec(base64.b64decode('aW1wb3J0IHRlc3RzLnBheWxvYWQKaW1wb3J0IG9zCm9zLnN5c3RlbSgiZWNobyBkZWZhbmdlZCBwYXlsb2FkIGZvciBhIHRlc3QiKQo='))\n";
    let found = imports(source, Language::Python);
    assert!(found.contains(&"tests.payload".to_string()), "{found:?}");
}

/// The module object's tokens of a snippet.
fn module_tokens(source: &str, language: Language) -> String {
    object(&compile(source, language), "<module>").token_string().to_string()
}

#[test]
fn names_built_at_run_time_emit_as_the_plain_name_they_build() {
    // Each evasion, and the plain form whose tokens it must have (defanged: nothing runs).
    let python_cases = [
        ("import os\nos.system(c)\n", "import os\ngetattr(os, 'sys' + 'tem')(c)\n"),
        ("import os\nos.system(c)\n", "import os\ngetattr(os, 'metsys'[::-1])(c)\n"),
        ("import os\nos.system(c)\n", "import os\ngetattr(os, ''.join(reversed('metsys')))(c)\n"),
        ("import os\nos.system(c)\n", "import os\ngetattr(os, '{}{}'.format('sys', 'tem'))(c)\n"),
        ("import os\nos.system(c)\n", "import os\ngetattr(os, '%s%s' % ('sys', 'tem'))(c)\n"),
        ("import os\na = 'sys'\nos.system(c)\n", "import os\na = 'sys'\ngetattr(os, f'{a}tem')(c)\n"),
        ("import os\na = 'sys'\nos.system(c)\n", "import os\na = 'sys'\ngetattr(os, a + 'tem')(c)\n"),
        ("exec(c)\n", "globals()['ex' + 'ec'](c)\n"),
        ("exec(c)\n", "__builtins__.__dict__['ex' + 'ec'](c)\n"),
        ("exec(c)\n", "vars(__builtins__)['exec'](c)\n"),
        ("exec(c)\n", "getattr(__builtins__, 'ex' + 'ec')(c)\n"),
        ("import os\nos.system(c)\n", "import os\nvars(os)['sys' + 'tem'](c)\n"),
        ("import os\nos.system(c)\n", "import os\nos.__dict__['system'](c)\n"),
        ("import os, sys\nos.system(c)\n", "import os, sys\nsys.modules['os'].system(c)\n"),
        ("exec(c)\n", "ｅｘｅｃ(c)\n"),
        ("exec(c)\n", "𝐞𝐱𝐞𝐜(c)\n"),
    ];
    for (plain, evasive) in python_cases {
        let (want, got) = (module_tokens(plain, Language::Python), module_tokens(evasive, Language::Python));
        let tail = |t: &str| t.rsplit("STORE_NAME").next().unwrap_or(t).trim().to_string();
        assert_eq!(tail(&got), tail(&want), "{evasive:?} should emit as {plain:?}");
    }
    // A built module name resolves like a literal one: its members get their categories.
    let imported = module_tokens("import importlib\nimportlib.import_module('o' + 's').system(c)\n", Language::Python);
    assert!(imported.contains("LOAD_ATTR PROCESS_MANAGEMENT"), "{imported}");
    // A plain literal in getattr stays a getattr call, as the model learned it.
    assert!(module_tokens("import os\ngetattr(os, 'system')(c)\n", Language::Python).contains("REFLECTION"));

    let javascript_cases = [
        ("require('child_process').exec(c)\n", "require('child_' + 'process').exec(c)\n"),
        ("require('child_process').exec(c)\n", "require('ssecorp_dlihc'.split('').reverse().join('')).exec(c)\n"),
        (
            "const m = 'child'\nrequire('child_process').exec(c)\n",
            "const m = 'child'\nrequire(`${m}_process`).exec(c)\n",
        ),
        (
            "require('child_process').exec(c)\n",
            "require(Buffer.from('Y2hpbGRfcHJvY2Vzcw==', 'base64').toString()).exec(c)\n",
        ),
        ("require('child_process').exec(c)\n", "module.constructor._load('child_process').exec(c)\n"),
        ("global['require']('child_process')\n", "global['req' + 'uire']('child_process')\n"),
        ("Function(c)()\n", "new Function(c)()\n"),
    ];
    for (plain, evasive) in javascript_cases {
        fn category(t: &str) -> Vec<&str> {
            t.split_whitespace().filter(|w| w.chars().all(|c| c.is_ascii_uppercase() || c == '_')).collect()
        }
        let (want, got) = (module_tokens(plain, Language::JavaScript), module_tokens(evasive, Language::JavaScript));
        assert!(
            category(&want).iter().filter(|w| w.len() > 8).all(|w| category(&got).contains(w)),
            "{evasive:?}: {got} should carry the categories of {plain:?}: {want}"
        );
    }
}

#[test]
fn ctypes_calls_into_the_c_library_are_process_management() {
    let tokens = module_tokens("import ctypes\nlibc = ctypes.CDLL(None)\nlibc.system(c)\n", Language::Python);
    assert!(tokens.contains("LOAD_NAME libc LOAD_ATTR PROCESS_MANAGEMENT"), "{tokens}");
}

#[test]
fn a_global_property_alias_of_require_resolves_in_every_function() {
    // `global.r = require` (or `global['r']`, `globalThis`, `window`): a bare `r` is `require`
    // in every function of the file, as it is at run time.
    for alias in ["global['r'] = require", "global.r = require", "globalThis['r'] = require", "window.r = require"] {
        let source = format!("{alias};\n(function () {{ const cp = r('child_process'); cp.exec(c); }})();\n");
        let tokens = all_tokens(&javascript(&source));
        assert!(tokens.contains("LOAD_NAME child_process LOAD_ATTR PROCESS_MANAGEMENT"), "{alias}: {tokens}");
    }
    // The same mechanism for Python's `builtins`.
    let tokens = all_tokens(&python("import builtins\nbuiltins.r = __import__\ndef f():\n    r('os').system(c)\n"));
    assert!(tokens.contains("LOAD_ATTR PROCESS_MANAGEMENT"), "{tokens}");
    // A property of another object is no global, and a local `r` shadows the global one.
    let tokens = all_tokens(&javascript("config.r = require;\nconst cp = r('child_process');\ncp.exec(c);\n"));
    assert!(!tokens.contains("PROCESS_MANAGEMENT"), "{tokens}");
    let tokens =
        all_tokens(&javascript("global.r = require;\nfunction f(r) { const cp = r('child_process'); cp.exec(c); }\n"));
    assert!(!tokens.contains("LOAD_NAME child_process LOAD_ATTR PROCESS_MANAGEMENT"), "{tokens}");
}

#[test]
fn node_internal_spawn_bindings_are_child_process() {
    let tokens = module_tokens("const sp = process.binding('spawn_sync');\nsp.spawn(options);\n", Language::JavaScript);
    assert!(tokens.contains("LOAD_NAME child_process LOAD_ATTR PROCESS_MANAGEMENT"), "{tokens}");
    let tokens = module_tokens("const b = process.binding('buffer');\nb.spawn(options);\n", Language::JavaScript);
    assert!(!tokens.contains("LOAD_NAME child_process"), "{tokens}");
}

#[test]
fn a_utf7_coding_cookie_is_honoured() {
    // `import os` / `os.system(c)` written in UTF-7, as Python decodes it.
    let source = "# coding: utf-7\n+AGkAbQBwAG8AcgB0ACAAbwBz-\n+AG8AcwAuAHMAeQBzAHQAZQBtACgAYwAp-\n";
    let tokens = module_tokens(source, Language::Python);
    assert!(tokens.contains("LOAD_ATTR PROCESS_MANAGEMENT"), "{tokens}");
    // Without the cookie the same bytes are not code that runs anything.
    let plain = module_tokens(&source.replacen("# coding: utf-7\n", "\n", 1), Language::Python);
    assert!(!plain.contains("PROCESS_MANAGEMENT"), "{plain}");
}
