// SYNTHETIC, DEFANGED malwi validation sample - modelled on the 2017 hacktask typosquats (babelcli); never run.
module.exports = require('babel-cli');
