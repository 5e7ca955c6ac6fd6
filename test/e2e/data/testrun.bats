# test/run's own test (build.bats) runs this file in place of test/e2e:
# one test that passes, one skipped, one fake self-test.

@test "passes" { [ -n "$MOODLECORD" ]; }

@test "is skipped" { skip "no tool"; }

# bats test_tags=fake-selftest
@test "a fake's self-test" { echo "run with $MOODLECORD" >>"$SELFTEST_LOG"; }
