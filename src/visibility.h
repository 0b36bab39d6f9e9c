/* Symbol visibility: the library builds with -fvisibility=hidden, and only
 * the public API (rnnk.h) is exported, marked RNNK_API. */
#ifndef RNNK_VISIBILITY_H
#define RNNK_VISIBILITY_H
#define RNNK_API __attribute__((visibility("default")))
#define RNNK_INTERNAL __attribute__((visibility("hidden")))
#endif
