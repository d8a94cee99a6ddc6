// Schedules firing, against the real binary: an every-minute schedule fires, a manual run
// creates a task at once, exportd restarts, and no slot is fired twice.
#include <chrono>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/itest_support.h"

namespace exportd::itest {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using SteadyClock = std::chrono::steady_clock;

class ScheduleFiringTest : public ExportdTest {
 protected:
  // The tasks of schedule `id`, newest first.
  std::vector<Json> TasksOf(const std::string& id) {
    HttpResponse list = api_->Get("/v1/exports?limit=100");
    EXPECT_EQ(list.status, 200) << list.Describe();
    std::vector<Json> out;
    if (!list.json.contains("items")) return out;
    for (const Json& t : list.json["items"]) {
      if (t.value("schedule_id", Json()).is_string() && t["schedule_id"] == id) out.push_back(t);
    }
    return out;
  }

  // Waits (polling, until `deadline`) for schedule `id` to have more than `count` tasks with a
  // cron slot (a tag whose slot is a whole second); returns the tasks then.
  std::vector<Json> WaitForCronTasks(const std::string& id, size_t count,
                                     SteadyClock::time_point deadline) {
    for (;;) {
      std::vector<Json> tasks = TasksOf(id);
      size_t cron = 0;
      for (const Json& t : tasks) cron += IsCronTag(t.value("tag", "")) ? 1 : 0;
      if (cron > count || SteadyClock::now() > deadline) return tasks;
      std::this_thread::sleep_for(milliseconds(250));
    }
  }

  static std::string SlotOf(const std::string& tag) {
    const size_t at = tag.find(";slot=");
    return at == std::string::npos ? "" : tag.substr(at + 6);
  }
  // Cron slots are whole minutes: "...T10:01:00Z"; manual runs carry milliseconds.
  static bool IsCronTag(const std::string& tag) {
    const std::string slot = SlotOf(tag);
    return !slot.empty() && slot.find('.') == std::string::npos;
  }
};

TEST_F(ScheduleFiringTest, EveryMinuteFiresOncePerSlotAcrossARestart) {
  ASSERT_TRUE(StartWithItems(3));
  HttpResponse created = api_->PostJson(
      "/v1/schedules",
      Json{{"name", "minutely"},
           {"cron", "* * * * *"},
           {"request", {{"dataset", "items"}, {"format", "csv"}, {"fields", {"id"}}}}});
  ASSERT_EQ(created.status, 201) << created.Describe();
  const std::string id = created.json.value("id", "");

  // The first slot is at most a minute away.
  std::vector<Json> tasks = WaitForCronTasks(id, 0, SteadyClock::now() + seconds(75));
  ASSERT_EQ(tasks.size(), 1u) << "no firing within 75 s";
  const Json first = tasks[0];
  const std::string first_slot = SlotOf(first.value("tag", ""));
  EXPECT_EQ(first.value("tag", ""), "schedule=minutely;slot=" + first_slot);
  EXPECT_EQ(first["schedule_id"], id);

  // last_run names the slot and its task.
  HttpResponse schedule = api_->Get("/v1/schedules/" + id);
  ASSERT_EQ(schedule.status, 200) << schedule.Describe();
  const Json& last_run = schedule.json["last_run"];
  ASSERT_TRUE(last_run.is_object()) << schedule.Describe();
  EXPECT_EQ(last_run.value("task_id", ""), first.value("id", ""));
  EXPECT_EQ(ParseRfc3339Millis(last_run.value("slot", "")), ParseRfc3339Millis(first_slot));
  EXPECT_TRUE(ParseRfc3339Millis(last_run.value("at", "")));

  // A manual run: a task at once, with a slot of its own.
  HttpResponse run = api_->PostJson("/v1/schedules/" + id + "/run", Json::object());
  ASSERT_EQ(run.status, 202) << run.Describe();
  const std::string manual_id = run.json.value("id", "");
  EXPECT_EQ(run.Header("Location"), "/v1/exports/" + manual_id);
  EXPECT_EQ(run.json["schedule_id"], id);
  EXPECT_FALSE(IsCronTag(run.json.value("tag", ""))) << run.Describe();
  schedule = api_->Get("/v1/schedules/" + id);
  EXPECT_EQ(schedule.json["last_run"].value("task_id", ""), manual_id) << schedule.Describe();
  // Another principal's schedule is not there to run.
  const std::string reader = CreateKey("reader-of-others", "exporter");
  ASSERT_FALSE(reader.empty());
  HttpResponse foreign = api_->Send("POST", "/v1/schedules/" + id + "/run", "{}",
                                    "application/json", {{"Authorization", "Bearer " + reader}},
                                    /*auth=*/false);
  EXPECT_EQ(foreign.status, 404) << foreign.Describe();

  // Restart on the same data dir: the start plans the latest slot again, and the store refuses
  // it; the next slot fires once.
  ASSERT_EQ(server_->Stop(seconds(15)), 0);
  std::string error;
  ASSERT_TRUE(server_->Start(&error)) << error;
  tasks = WaitForCronTasks(id, 1, SteadyClock::now() + seconds(75));

  std::map<std::string, int> slots;
  std::set<std::string> tags;
  for (const Json& t : tasks) {
    ++slots[SlotOf(t.value("tag", ""))];
    tags.insert(t.value("tag", ""));
  }
  EXPECT_EQ(tags.size(), tasks.size()) << "each slot once";
  for (const auto& [slot, n] : slots) EXPECT_EQ(n, 1) << slot;
  EXPECT_EQ(slots.count(first_slot), 1u);
  EXPECT_EQ(slots.count(SlotOf(run.json.value("tag", ""))), 1u);
  size_t cron = 0;
  for (const Json& t : tasks) cron += IsCronTag(t.value("tag", "")) ? 1 : 0;
  EXPECT_GE(cron, 2u) << "a slot after the restart fires";
}

}  // namespace
}  // namespace exportd::itest
