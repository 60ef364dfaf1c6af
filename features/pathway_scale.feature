Feature: The pathway at any scale
  No hop ever waits for a thread: a Rust hop runs on a thread of its own,
  never on the event loop's default executor, so neither a pipeline's
  length nor the caller's own blocking work can stall it. Every pathway
  stays byte-exact.

  Scenario Outline: A 64-stage pipeline completes byte-exact
    Given the native extension is available
    And CUPRUM_STREAM_BACKEND is "<backend>"
    When I pipe an 8 MiB payload through a 64-stage pipeline
    Then the output is byte-exact and every stage succeeded
    And all 63 hops used the <pump> pump

    Examples:
      | backend | pump   |
      | python  | python |
      | rust    | rust   |

  Scenario Outline: A pipeline completes while the caller fills the default executor
    Given the native extension is available
    And CUPRUM_STREAM_BACKEND is "<backend>"
    And blocking work holds every thread of the default executor
    When I pipe an 8 MiB payload through a 4-stage pipeline
    Then the output is byte-exact and every stage succeeded
    And all 3 hops used the <pump> pump
    And the default executor was still full when the pipeline finished

    Examples:
      | backend | pump   |
      | python  | python |
      | rust    | rust   |
