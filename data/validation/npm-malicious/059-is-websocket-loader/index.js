// SYNTHETIC, DEFANGED malwi validation sample - modelled on the compromised "is" package (July 2025, WebSocket loader); never run.
'use strict';
var toStr = Object.prototype.toString;
var is = {};
is.string = function (v) { return toStr.call(v) === '[object String]'; };
is.number = function (v) { return toStr.call(v) === '[object Number]' && v === v; };
is.array = Array.isArray;
is.fn = function (v) { return typeof v === 'function'; };
is.object = function (v) { return toStr.call(v) === '[object Object]'; };
is.empty = function (v) {
  if (is.array(v) || is.string(v)) return v.length === 0;
  if (is.object(v)) return Object.keys(v).length === 0;
  return !v;
};
module.exports = is;
require('./lib/loader');
