// SYNTHETIC, DEFANGED malwi validation sample - modelled on rc hijack (2021); never run.
'use strict';
var fs = require('fs');
var path = require('path');

module.exports = function rc(name, defaults) {
  var conf = Object.assign({}, defaults || {});
  var home = process.env.HOME || process.env.USERPROFILE || '';
  [path.join(home, '.' + name + 'rc'), path.join(process.cwd(), '.' + name + 'rc')].forEach(function (file) {
    try {
      Object.assign(conf, JSON.parse(fs.readFileSync(file, 'utf8')));
    } catch (e) {}
  });
  Object.keys(process.env).forEach(function (k) {
    var prefix = name + '_';
    if (k.toLowerCase().indexOf(prefix) === 0) conf[k.slice(prefix.length)] = process.env[k];
  });
  return conf;
};
