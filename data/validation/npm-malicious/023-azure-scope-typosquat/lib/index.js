// SYNTHETIC, DEFANGED malwi validation sample - modelled on the scoped Azure SDK typosquats (2022); never run.
'use strict';
function createSpan(name, options) {
  return { name: name, attributes: (options && options.attributes) || {}, end: function () {} };
}
function getTracer() {
  return { startSpan: createSpan };
}
module.exports = { createSpan: createSpan, getTracer: getTracer };
