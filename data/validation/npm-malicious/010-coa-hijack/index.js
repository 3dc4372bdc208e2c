// SYNTHETIC, DEFANGED malwi validation sample - modelled on coa hijack (2021); never run.
'use strict';
function Cmd(name) {
  this._name = name;
  this._opts = [];
  this._args = [];
}
Cmd.prototype.opt = function (name, short) {
  this._opts.push({ name: name, short: short });
  return this;
};
Cmd.prototype.parse = function (argv) {
  var res = {};
  for (var i = 0; i < argv.length; i++) {
    var a = argv[i];
    this._opts.forEach(function (o) {
      if (a === '--' + o.name || a === '-' + o.short) res[o.name] = argv[i + 1] || true;
    });
  }
  return res;
};
module.exports = { Cmd: function (n) { return new Cmd(n); } };
