// SYNTHETIC, DEFANGED malwi validation sample - modelled on dependency-confusion probes (2021 onward, HTTPS variant); never run.
module.exports = {};
