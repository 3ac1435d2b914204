/* The assert() failure handler of the static agent (yajl's asserts are its only users).
   glibc's own prints through __fxprintf and translates through dcgettext, which links
   wide-character stdio, gettext, iconv (gconv) and the locale loader (about 29 KB) into the
   static binary.  Same message (to the console, like every agent message), then abort(). */
#include "config.h"
#include "agent/agent.h"
#include <assert.h>
#include <stdlib.h>

void
__assert_fail (const char *assertion, const char *file, unsigned int line, const char *function)
{
  agent_log_always ("%s:%u: %s%sAssertion `%s' failed.", file, line, function ? function : "",
                    function ? ": " : "", assertion);
  abort ();
}
