// libxenlight (libxl, Debian's libxen-dev): the toolstack library behind `xl`, with the
// logger it reports through (libxentoollog).
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <libxl.h>
#include <libxl_utils.h>
#include <xentoollog.h>
