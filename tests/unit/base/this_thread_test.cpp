#include "foggate/base/this_thread.h"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <thread>

namespace foggate {
namespace {

std::string comm_of(pid_t tid) {
  std::ifstream in("/proc/self/task/" + std::to_string(tid) + "/comm");
  std::string name;
  std::getline(in, name);
  return name;
}

int nice_of(pid_t tid) { return getpriority(PRIO_PROCESS, static_cast<id_t>(tid)); }

TEST(ThisThreadTest, NameIsCutToWhatLinuxKeeps) {
  std::string seen;
  std::thread([&] {
    name_this_thread("a-name-longer-than-fifteen");
    seen = comm_of(gettid());
  }).join();
  EXPECT_EQ(seen, "a-name-longer-t");
}

TEST(ThisThreadTest, LoweredPriorityIsThisThreadsOnly) {
  const int before = nice_of(gettid());
  if (before > 19 - 3) GTEST_SKIP() << "the test already runs at nice " << before;
  int lowered = 0;
  int unchanged = 0;
  std::thread([&] {
    lower_this_thread_priority(0);
    unchanged = nice_of(gettid());
    lower_this_thread_priority(3);
    lowered = nice_of(gettid());
  }).join();
  EXPECT_EQ(unchanged, before);
  EXPECT_EQ(lowered, before + 3);
  EXPECT_EQ(nice_of(gettid()), before) << "the calling thread keeps its priority";
}

}  // namespace
}  // namespace foggate
