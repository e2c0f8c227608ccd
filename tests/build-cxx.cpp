// build-cxx.cpp - the public header from C++17 (-Wall -Wextra -Werror),
// linked to the shared library, using RGN_SCOPE, rgn_alloc and RGN_AT.
#include <rgn.h>

#include <cstdio>
#include <cstring>

namespace {

struct pair {
	rgn_ref first;
	rgn_ref second;
};

int run()
{
	rgn_config cfg{};
	cfg.space_size = std::size_t(16) << 20;
	if (rgn_init(&cfg) != 0)
		return 1;

	int ok = 0;
	RGN_SCOPE {
		rgn_region *r = rgn_current();
		auto *a = static_cast<long *>(rgn_alloc(r, sizeof(long)));
		auto *b = static_cast<long *>(rgn_alloc(r, sizeof(long)));
		auto *p = static_cast<pair *>(rgn_alloc(r, sizeof(pair)));
		if (!a || !b || !p)
			return 1;
		*a = 40;
		*b = 2;
		p->first = rgn_ref_of(a);
		p->second = rgn_ref_of(b);
		rgn_ref ref = rgn_ref_of(p);
		ok = *RGN_AT(long, RGN_AT(pair, ref)->first) +
		     *RGN_AT(long, RGN_AT(pair, ref)->second) == 42;
	}
	if (!ok || rgn_current() != nullptr)
		return 1;

	struct rgn_space_stats st;
	if (rgn_space_stats(&st) != 0 || st.live_regions != 0)
		return 1;
	std::printf("rgn %s from C++: ok\n", RGN_VERSION_STRING);
	return 0;
}

} // namespace

int main()
{
	return run();
}
