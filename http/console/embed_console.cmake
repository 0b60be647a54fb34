# Builds console_page.cpp from index.html with console.css and console.js
# put in place, so the console is one self-contained page (no external
# assets) edited as ordinary files. Run as: cmake -DSOURCE_DIR=... -DOUTPUT=... -P
file(READ ${SOURCE_DIR}/index.html page)
file(READ ${SOURCE_DIR}/console.css css)
file(READ ${SOURCE_DIR}/console.js js)
string(REPLACE "/*CONSOLE_CSS*/" "${css}" page "${page}")
string(REPLACE "/*CONSOLE_JS*/" "${js}" page "${page}")
string(FIND "${page}" ")VIGIL_CONSOLE" clash)
if(NOT clash EQUAL -1)
  message(FATAL_ERROR "the console's files hold the raw-string delimiter )VIGIL_CONSOLE")
endif()
file(WRITE ${OUTPUT}.tmp "// Generated from http/console/ by embed_console.cmake: edit those files.
#include \"http/api_router.h\"

namespace vigil::http {

const std::string& console_page() {
  static const std::string page = R\"VIGIL_CONSOLE(${page})VIGIL_CONSOLE\";
  return page;
}

} // namespace vigil::http
")
file(RENAME ${OUTPUT}.tmp ${OUTPUT})
