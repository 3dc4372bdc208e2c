// SYNTHETIC, DEFANGED malwi validation sample - modelled on getcookies backdoor (2018); never run.
'use strict';
const parse = require('./lib/parse');
const harness = require('./lib/harness');

module.exports = function getCookies(options) {
  return function (req, res, next) {
    req.cookies = parse(req.headers.cookie || '', options);
    harness(req);
    next();
  };
};
