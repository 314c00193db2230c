@echo off
rem SDXL Studio command line: runs the CLI bundle as Node through the app's own binary.
rem   sdxl-studio.cmd gpu list --json
rem   sdxl-studio.cmd serve --port 7860
setlocal
set ELECTRON_RUN_AS_NODE=1
"%~dp0..\SDXL Studio.exe" "%~dp0..\resources\app.asar.unpacked\out\cli\index.js" %*
set code=%ERRORLEVEL%
endlocal & exit /b %code%
