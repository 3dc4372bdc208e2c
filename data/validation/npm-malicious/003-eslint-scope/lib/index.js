// SYNTHETIC, DEFANGED malwi validation sample - modelled on eslint-scope 3.7.2 compromise (2018); never run.
'use strict';

function Scope(type, block, upper) {
  this.type = type;
  this.block = block;
  this.upper = upper || null;
  this.variables = [];
  this.references = [];
}

Scope.prototype.resolve = function (name) {
  for (var s = this; s; s = s.upper) {
    for (var i = 0; i < s.variables.length; i++) {
      if (s.variables[i].name === name) return s.variables[i];
    }
  }
  return null;
};

function analyze(ast) {
  var global = new Scope('global', ast);
  return { globalScope: global, scopes: [global] };
}

module.exports = { analyze: analyze, Scope: Scope, version: '3.7.2' };
