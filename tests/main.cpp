// The test runner: every tests/test_*.cpp adds its suites to this module.
#define BOOST_TEST_MODULE typenet
#include <boost/test/unit_test.hpp>
