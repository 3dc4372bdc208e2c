// SYNTHETIC, DEFANGED malwi validation sample - modelled on crossenv typosquat (2017); never run.
module.exports = require('cross-env');
