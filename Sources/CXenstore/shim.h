// libxenstore (Debian's libxen-dev): the xenstore client of Xen's tools. It connects to the
// socket XENSTORED_PATH names when set, else to xenstored's socket or /dev/xen/xenbus.
#include <stdbool.h>
#include <stdint.h>
#include <xenstore.h>
#include <xen/io/xs_wire.h>
