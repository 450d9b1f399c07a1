from ctrlrec.profiles import shape


def test_canonical_profile_round_trips():
    text = "User identity: student, engineer, parent; User interests: space, war, Sci-Fi"
    p = shape.parse(text)
    assert p.identity == ("student", "engineer", "parent") and p.interests == ("space", "war", "Sci-Fi")
    assert p.valid and p.render() == text


def test_lenient_parse_of_untidy_output():
    text = ("Sure!\nuser identity - 1. student 2. engineer 3. parent\n"
            "USER INTERESTS: space; war;\n- Sci-Fi\n- more")
    p = shape.parse(text)
    assert p.identity == ("student", "engineer", "parent")
    assert p.interests == ("space", "war", "Sci-Fi")  # the fourth phrase is cut
    want = "User identity: student, engineer, parent; User interests: space, war, Sci-Fi"
    assert shape.canonical(text) == want


def test_missing_parts_are_invalid():
    assert not shape.is_valid("User identity: student, engineer; User interests: space, war, love")
    assert not shape.is_valid("I like movies.")
    assert shape.parse("I like movies.").identity == ()


def test_placeholders_copied_from_the_prompt_are_not_profiles():
    assert not shape.is_valid("User identity: A, B, C; User interests: X, Y, Z")
    assert not shape.is_valid("User identity: phrase 1, phrase 2, phrase 3; User interests: a b, c d, e f")
    assert not shape.is_valid("User identity: student, student, parent; User interests: space, war, love")


def test_cut_titles_and_bare_numbers_are_not_phrases():
    # what an undertrained model wrote on ml-100k: titles cut at their commas, numbered placeholders
    assert not shape.is_valid("User identity: My Best Friend's Wedding (, (Comedy, Romance); "
                              "User interests: My Best Friend's Wedding (, (Comedy, Romance")
    assert not shape.is_valid("User identity: 1, 2, 3; User interests: drama, comedy, action")
    assert shape.is_valid("User identity: parent (two kids), film buff, 1990s viewer; "
                          "User interests: Children's, Sci-Fi, Film-Noir")


def test_phrases_that_echo_a_label_are_not_content():
    # what the cold-item single-round model wrote under constrained decoding (2026-12-01)
    assert not shape.is_valid("User identity: user identity is identity of the user, a, b; "
                              "User interests: drama, comedy, action")
    assert not shape.is_valid("User identity: Ref, The, The Adventures of the Unicorn; User interests: "
                              "Drama, Comedy, Drama.User identity and interests are related")
    assert not shape.phrase_ok("user interests are entertainment")
    assert shape.phrase_ok("The Bourne Identity") and shape.phrase_ok("interested in user manuals")
