Feature: Hop kinds follow one dispatch table
  Every byte a run moves crosses a hop: the source hop (stdin= into the
  first stage), inter-stage hops (stage to stage) and the sink hop (the last
  stage's stdout into the result). Which mover serves each hop depends on
  CUPRUM_STREAM_BACKEND and on whether the hop's descriptors are usable, as
  the hop-kinds table in docs/cuprum-design.md says. These scenarios run
  real pipelines and observe every hop ("cat-cat" is the pipeline cat | cat). "text" runs have a timeout (so the
  sink uses the Python consumer); "all text" and "all bytes" runs wait for
  the end without one, as the native consumer requires.

  Scenario Outline: Each hop kind follows its rule
    Given the native extension is available
    And CUPRUM_STREAM_BACKEND is "<backend>"
    And hop descriptors are <descriptors>
    When I run <stages> on a 1 MiB <source> capturing <capture>
    Then the <kind> hop used the <pump> pump, forced fallback <forced>
    And the captured output is byte-exact

    Examples:
      | stages    | backend | descriptors | source | capture      | kind        | pump   | forced |
      | cat-cat   | python  | usable      | file   | text         | source      | python | no     |
      | cat-cat   | rust    | usable      | file   | text         | source      | rust   | no     |
      | cat-cat   | rust    | usable      | buffer | text         | source      | python | no     |
      | cat-cat   | rust    | unusable    | file   | text         | source      | python | yes    |
      | cat-cat   | python  | usable      | file   | text         | inter-stage | python | no     |
      | cat-cat   | rust    | usable      | file   | text         | inter-stage | rust   | no     |
      | cat-cat   | rust    | unusable    | file   | text         | inter-stage | python | yes    |
      | cat       | python  | usable      | buffer | all text     | sink        | python | no     |
      | cat       | rust    | usable      | buffer | all text     | sink        | rust   | no     |
      | cat       | rust    | usable      | buffer | all bytes    | sink        | python | no     |
      | cat       | rust    | usable      | buffer | echoed text  | sink        | python | no     |
      | cat       | rust    | usable      | buffer | with timeout | sink        | python | no     |
      | cat       | rust    | unusable    | buffer | all text     | sink        | python | yes    |
